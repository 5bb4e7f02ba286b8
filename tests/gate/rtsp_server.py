"""A loopback RTSP server for the camera tests (GStreamer's rtsp-server, Debian: gir1.2-gst-rtsp-server-1.0,
gstreamer1.0-plugins-good, python3-gi). Run with the system python3, not collected by pytest.

usage: python3 rtsp_server.py PORT MOUNT CLIP.mp4     (H.264 in MP4; prints "ready" once listening)
Each client gets the clip from its start at its own frame rate; SIGTERM stops the server.
"""

import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main(port: str, mount: str, clip: str) -> int:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f'( filesrc location="{clip}" ! qtdemux ! rtph264pay name=pay0 pt=96 config-interval=1 )')
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
