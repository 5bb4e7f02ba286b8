// Live view: polls /api/live and /live.jpg, draws the frame and the detector's boxes.
(function () {
  "use strict";
  var canvas = document.getElementById("live-canvas");
  if (!canvas) { return; }
  var ctx = canvas.getContext("2d");
  var stateEl = document.getElementById("live-state");
  var colours = { with_mask: "#17a34a", without_mask: "#dc2626", mask_weared_incorrect: "#f59e0b" };
  var lastTime = null;

  function draw(meta, img) {
    canvas.width = meta.width || img.width;
    canvas.height = meta.height || img.height;
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    ctx.lineWidth = Math.max(2, canvas.width / 320);
    ctx.font = Math.max(12, canvas.width / 50) + "px sans-serif";
    (meta.faces || []).forEach(function (f) {
      var b = f.bbox, c = colours[f.label] || "#3b82f6";
      ctx.strokeStyle = c; ctx.fillStyle = c;
      ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
      ctx.fillText(f.label + " " + f.score.toFixed(2), b[0], Math.max(12, b[1] - 4));
    });
  }

  function tick() {
    fetch("/api/live", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (meta) {
        if (!meta) { return; }
        stateEl.textContent = meta.time ? ("state: " + meta.state + " · " + meta.time) : meta.state;
        if (!meta.time || meta.time === lastTime) { return; }
        lastTime = meta.time;
        var img = new Image();
        img.onload = function () { draw(meta, img); };
        img.src = "/live.jpg?t=" + encodeURIComponent(meta.time);
      })
      .catch(function () { stateEl.textContent = "console unreachable"; })
      .finally(function () { setTimeout(tick, 1000); });
  }
  tick();
}());
