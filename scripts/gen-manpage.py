#!/usr/bin/env python3
"""Writes gatewayd/man/gatewayd.toml.5 from README.md's configuration tables,
so that the man page cannot drift from the README. --check: exit 1 (and say
so) when the file in the tree is not what the README gives."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
TARGET = ROOT / "gatewayd/man/gatewayd.toml.5"


def table(heading):
    start = README.index(heading)
    first = README.index("| key |", start)
    rows = []
    for line in README[first:].split("\n")[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def roff(text):
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text.replace("\\", "\\\\").replace("`", "").replace("-", "\\-")


def section(title, rows):
    out = [".SS " + title]
    for key, default, meaning in rows:
        out += [".TP", ".B " + roff(key)]
        text = roff(meaning).rstrip(".")
        out.append(text + (". Default: " + roff(default) + "." if default else "."))
    return "\n".join(out)


HEAD = r'''.\" Generated from README.md by scripts/gen-manpage.py; edit the README and run it.
.TH GATEWAYD.TOML 5 "December 2026" "gatewayd 0.1.0" "File Formats"
.SH NAME
gatewayd.toml \- configuration of the gatewayd edge gateway
.SH DESCRIPTION
One TOML file, by default
.IR /etc/gatewayd/gatewayd.toml .
Durations are strings with a unit ("250ms", "5s", "2m", "1h", "1d", "1m30s");
sizes are strings with a unit ("64KiB", "256MiB", "1GB") or a number of bytes.
Relative paths are resolved against the daemon's working directory. Unknown
keys are errors. Every problem is reported as
.IR PATH : LINE : COLUMN ": message" ,
all at once, by
.B gatewayd \-\-check\-config
and at start; a reload
.RB ( "systemctl reload gatewayd" )
with errors keeps the running configuration.
.PP
A key ending in
.B _file
names a file, or
.BI credential: NAME
for a systemd credential
.RB ( LoadCredential= " or " ImportCredential= ),
read from
.RI $CREDENTIALS_DIRECTORY/ NAME .
.PP
Topic templates take {gateway}, {sensor} (the reading's name), {instance} (the
[[sensor]] name), {plugin} and {upstream}.
'''

TAIL = r'''.SS Cloud platforms
.B profile = "aws" | "huawei" | "onenet"
makes an upstream speak one platform, with a table of its console fields:
.B [upstream.huawei]
.RB ( device_id ", " secret_file ", " sign_type ", " legacy_topics ),
.B [upstream.onenet]
.RB ( product_id ", " device_name ", " key_file ", " method ", " token_validity " or " token_expires_at ),
.B [upstream.aws]
.RB ( thing_name ", " shadow ", " shadow_name ", " shadow_interval ", " command_topic ).
Readings become platform entities through
.B [[upstream.map]]
entries keyed by reading name
.RB ( sensor ),
with
.BR service_id ", " property ", " device_id " (Huawei), " identifier " (OneNET), " shadow_field " (AWS), and " instance ", " commands .
Ready-to-edit files are in
.IR /usr/share/doc/gatewayd/examples/ .
.SH EXAMPLE
.nf
[gateway]
id = "gw\-01"

[[sensor]]
name = "demo"
plugin = "simulated"
interval = "10s"

[[upstream]]
name = "local"
url = "tcp://127.0.0.1:1883"
password_file = "credential:broker\-password"
.fi
.SH SEE ALSO
.BR gatewayd (8),
.I /usr/share/doc/gatewayd/README.md
'''


def render():
    return "\n".join([
        HEAD,
        section("[gateway]", table("### `[gateway]`")),
        section("[[sensor]] (one block per sensor)", table("### `[[sensor]]`")),
        section("[[upstream]] (one block per destination)", table("### `[[upstream]]`")),
        section("[normalize]", table("### `[normalize]`")),
        TAIL,
    ])


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if TARGET.read_text() != text:
            print(f"{TARGET} is not what README.md gives: run scripts/gen-manpage.py")
            sys.exit(1)
        print(f"{TARGET.name} matches README.md")
    else:
        TARGET.write_text(text)
