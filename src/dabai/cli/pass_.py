"""``dabai pass``: issue, revoke, verify, import and list signed QR passes.

(The module is ``pass_`` because ``pass`` is a Python keyword.)
"""

from __future__ import annotations

import sys
from datetime import datetime

from dabai.cli.common import add_command, add_gate_options, add_group, open_gate_of, print_json
from dabai.core.errors import DabaiError


def register(sub) -> None:
    g = add_group(sub, "pass", "issue, revoke and verify signed QR passes",
                  examples="  dabai pass issue 张三 --out zhangsan.png --valid-days 30\n"
                           "  dabai pass revoke 3f9c0a1b2c3d4e5f\n  dabai pass verify photo.jpg\n")
    p = add_gate_options(add_command(g, "issue", cmd_pass_issue, "issue a signed pass as a QR PNG",
                                     examples="  dabai pass issue 张三 --out pass.png --expires 2026-12-31T00:00:00+08:00\n"
                                              "  dabai pass issue 7 --out guest.png --valid-days 1 --single-use --json\n"))
    p.add_argument("resident", help="resident id or unambiguous name")
    p.add_argument("--out", required=True, help="PNG file to write")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--expires", help="expiry time, ISO 8601 (a time without zone is local time)")
    when.add_argument("--valid-days", type=float, help="valid for N days from now (default 30)")
    p.add_argument("--single-use", action="store_true", help="the pass opens the gate once, on any gate")
    p = add_gate_options(add_command(g, "revoke", cmd_pass_revoke, "revoke a pass (refused by every gate on this registry)",
                                     examples="  dabai pass revoke 3f9c0a1b2c3d4e5f --reason lost\n"))
    p.add_argument("pass_id")
    p.add_argument("--reason", help="why (kept in the registry)")
    p = add_gate_options(add_command(g, "verify", cmd_pass_verify,
                                     "read the QR in an image and verify the pass (exit 0 valid, 1 refused)",
                                     examples="  dabai pass verify pass.png\n  dabai pass verify visitor.jpg --json\n"))
    p.add_argument("image")
    p = add_gate_options(add_command(
                 g, "import", cmd_pass_import,
                 "record passes issued on another host (or a restored backup) so this registry's gates admit them",
                 description="Gates admit only passes their registry recorded. A pass signed on another issuing host "
                             "(its signing.pub in HOME/keys/trusted/) is recorded here after its signature, expiry and "
                             "resident are checked. Each SOURCE is a QR image or a text file with one pass text per line.",
                 examples="  dabai pass import pass.png\n  dabai pass import passes.txt --json\n"))
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p = add_gate_options(add_command(g, "list", cmd_pass_list, "list issued passes",
                                     examples="  dabai pass list\n  dabai pass list --resident 3 --json\n"))
    p.add_argument("--resident", help="only this resident's passes (id or name)")


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DabaiError(f"--expires {text!r} is not an ISO 8601 time, e.g. 2026-12-31T00:00:00+08:00") from None
    return value if value.tzinfo else value.astimezone()


def cmd_pass_issue(args) -> int:
    from dabai.gate.keys import load_private_key
    from dabai.gate.passes import PassError, issue_pass, write_qr_png

    home, cfg, reg = open_gate_of(args)
    expires = _parse_time(args.expires) if args.expires else None
    if expires is not None and expires <= datetime.now().astimezone():
        raise PassError(f"--expires {args.expires} is in the past")
    key = load_private_key(home)
    issued = issue_pass(reg, key, args.resident, expires_at=expires, valid_days=args.valid_days,
                        single_use=args.single_use, max_name_bytes=cfg.passes.max_name_bytes,
                        max_valid_days=cfg.passes.max_valid_days)
    path = write_qr_png(issued.text, args.out)
    out = issued.to_json() | {"image": str(path)}
    if args.json:
        print_json(out)
    else:
        print(f"issued pass {issued.pass_id} for {issued.resident.name} (id {issued.resident.id}), "
              f"valid until {issued.expires_at.astimezone().isoformat()}" + (", single use" if issued.single_use else "")
              + f"\n  QR: {path}")
    return 0


def cmd_pass_revoke(args) -> int:
    from dabai.gate.passes import revoke_pass

    _, _, reg = open_gate_of(args)
    out = revoke_pass(reg, args.pass_id, args.reason)
    if args.json:
        print_json(out)
    else:
        print(f"revoked pass {out['pass_id']} at {out['revoked_at']}")
        if not out["known"]:
            print("note: this registry has no record of that pass (issued elsewhere?); it is refused all the same")
    return 0


def cmd_pass_import(args) -> int:
    from pathlib import Path

    from dabai.core.images import is_image
    from dabai.core.images import read_bgr as read_image
    from dabai.gate.keys import load_public_keys
    from dabai.gate.passes import import_pass
    from dabai.gate.qr import decode_qr, pick_pass_text

    home, _, reg = open_gate_of(args)
    keys = load_public_keys(home)
    done, errors = [], []
    for source in args.sources:
        path = Path(source)
        try:
            if is_image(path):
                texts = [pick_pass_text(decode_qr(read_image(path)))]
                if texts[0] is None:
                    raise DabaiError("no QR code found in the image")
            else:
                if not path.is_file():
                    raise DabaiError("file not found")
                texts = [t.strip() for t in path.read_text(encoding="utf-8", errors="replace").splitlines()[:10000]]
                texts = [t for t in texts if t]
        except DabaiError as exc:
            errors.append(f"{path}: {exc}")
            continue
        for text in texts:
            try:
                done.append(import_pass(reg, keys, text))
            except DabaiError as exc:
                errors.append(f"{path}: {exc}")
    if args.json:
        print_json({"imported": done, "errors": errors})
    else:
        for e in errors:
            print(e, file=sys.stderr)
        for d in done:
            print(f"{'already recorded' if d['already'] else 'recorded'}: pass {d['pass_id']} for {d['name']} "
                  f"(id {d['resident_id']}), until {d['expires_at']}")
    return 1 if errors else 0


def cmd_pass_verify(args) -> int:
    from dabai.core.images import read_bgr as read_image
    from dabai.gate.keys import load_public_keys
    from dabai.gate.passes import verify_text
    from dabai.gate.qr import decode_qr, pick_pass_text

    home, cfg, reg = open_gate_of(args)
    text = pick_pass_text(decode_qr(read_image(args.image)))
    check = verify_text(reg, load_public_keys(home), text, clock_skew_s=cfg.passes.clock_skew_s)
    p = check.payload
    out = {"valid": check.valid, "reason": check.reason, "detail": check.detail,
           "pass_id": p.pass_id if p else None, "resident_id": p.resident_id if p else None,
           "name": p.name if p else None, "expires_at": p.expires_at.isoformat() if p else None}
    if args.json:
        print_json(out)
    elif check.valid:
        print(f"valid: pass {p.pass_id} for {check.resident.name} (id {p.resident_id}), "
              f"expires {p.expires_at.astimezone().isoformat()}")
    else:
        print(f"refused: {check.reason} ({check.detail})")
    return 0 if check.valid else 1


def cmd_pass_list(args) -> int:
    from dabai.gate.passes import list_passes
    from dabai.gate.residents import find_resident

    _, _, reg = open_gate_of(args)
    rid = find_resident(reg, args.resident, include_inactive=True).id if args.resident else None
    rows = list_passes(reg, rid)
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        state = "revoked" if r["revoked"] else ("used" if r["used"] else "")
        print(f"{r['pass_id']}  {r['name']:<10} until {r['expires_at']}  {'single-use ' if r['single_use'] else ''}{state}")
    return 0
