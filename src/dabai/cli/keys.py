"""``dabai keys``: the community's pass signing key (init, show)."""

from __future__ import annotations

from dabai.cli.common import add_command, add_gate_options, add_group, print_json


def register(sub) -> None:
    g = add_group(sub, "keys", "the community's pass signing key",
                  examples="  dabai keys init\n  dabai keys show --json\n")
    add_gate_options(add_command(g, "init", cmd_keys_init,
                                 "create the Ed25519 signing key (HOME/keys/signing.key, mode 0600) and its public key",
                                 examples="  dabai keys init\n  DABAI_HOME=/srv/dabai dabai keys init --json\n"))
    add_gate_options(add_command(g, "show", cmd_keys_show, "show the public key id(s) this gate trusts",
                                 examples="  dabai keys show\n"))


def cmd_keys_init(args) -> int:
    from dabai.gate.home import resolve_home
    from dabai.gate.keys import init_keys

    home = resolve_home(args.home, args.db).ensure()
    key = init_keys(home)
    out = {"key_id": key.key_id, "private_key": str(home.private_key_path), "public_key": str(home.public_key_path)}
    if args.json:
        print_json(out)
    else:
        print(f"created signing key {key.key_id}\n  private: {out['private_key']} (mode 0600; keep it on the "
              f"issuing host only)\n  public:  {out['public_key']} (copy to every gate's HOME/keys/)")
    return 0


def cmd_keys_show(args) -> int:
    from dabai.gate.home import resolve_home
    from dabai.gate.keys import load_public_keys

    keys = load_public_keys(resolve_home(args.home, args.db))
    if args.json:
        print_json([{"key_id": k.key_id, "path": str(k.path)} for k in keys.values()])
    else:
        for k in keys.values():
            print(f"{k.key_id}  {k.path}")
    return 0
