"""Build the shipped advisory databases under security/advisory-db/.

The audit must work without a network, so it reads databases kept in the repo. This
script makes them from a copy of the sources, fetched wherever there is a network:

    # OSV records: a checkout of github.com/pypa/advisory-database (its vulns/ folder),
    # or OSV's PyPI export https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip
    python -m security.refresh_db osv --input advisory-database/vulns \\
        --name "PyPA advisory-database" --url https://github.com/pypa/advisory-database \\
        --licence CC-BY-4.0 --snapshot <commit> --data-date 2024-10-10 \\
        --out security/advisory-db/pypa-osv.json.gz

    # The PyUp free feed: data/insecure.json of github.com/pyupio/safety-db
    python -m security.refresh_db pyup --input insecure.json \\
        --out security/advisory-db/pyup-specs.json.gz --snapshot <commit>

Only what matching needs is kept (ids, aliases, a one-line summary, ECOSYSTEM ranges,
explicit versions), so the whole PyPI part of a source fits in a few hundred kB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, List, Mapping

import yaml

from security.advisories import advisory_from_osv

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _records_from_text(name: str, text: str) -> Iterator[Mapping]:
    if name.endswith(".json"):
        yield json.loads(text)
    elif name.endswith((".yaml", ".yml")):
        yield yaml.load(text, Loader=YAML_LOADER)


def read_osv_records(source: Path) -> Iterator[Mapping]:
    """Every OSV record in a folder tree or a zip of .json/.yaml files."""
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                yield from _records_from_text(path.name, path.read_text("utf-8"))
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for name in sorted(archive.namelist()):
                yield from _records_from_text(name, archive.read(name).decode("utf-8"))
    else:
        raise SystemExit(f"{source}: neither a folder nor a zip of OSV records")


def slim_osv(records) -> List[dict]:
    """The matching-relevant part of each PyPI record, sorted by id for stable output."""
    slim = []
    for record in records:
        advisory = advisory_from_osv(record)
        if advisory is None:
            continue
        slim.append(
            {
                "id": advisory.id,
                "aliases": list(advisory.aliases),
                "published": advisory.published,
                "summary": advisory.summary,
                "affected": [
                    {
                        "package": entry.package,
                        "ranges": [[list(event) for event in span] for span in entry.ranges],
                        "versions": list(entry.versions),
                    }
                    for entry in advisory.affected
                ],
            }
        )
    return sorted(slim, key=lambda item: item["id"])


def write_database(out: Path, meta: dict, body: dict) -> None:
    payload = json.dumps({"meta": meta, **body}, separators=(",", ":"), sort_keys=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the file byte-identical when the data has not changed.
    out.write_bytes(gzip.compress(payload.encode("utf-8"), mtime=0))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("format", choices=("osv", "pyup"))
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name")
    parser.add_argument("--url", default="")
    parser.add_argument("--licence", default="")
    parser.add_argument("--snapshot", default="", help="commit or file hash of the copy")
    parser.add_argument("--data-date", help="date of the newest data (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    built = datetime.now(timezone.utc).date().isoformat()

    if args.format == "osv":
        if not (args.name and args.data_date):
            parser.error("osv needs --name and --data-date (the source's last change)")
        advisories = slim_osv(read_osv_records(args.input))
        meta = {
            "name": args.name,
            "format": "osv",
            "url": args.url,
            "licence": args.licence,
            "snapshot": args.snapshot,
            "data_date": args.data_date,
            "records": len(advisories),
            "built": built,
        }
        write_database(args.out, meta, {"advisories": advisories})
    else:
        data = json.loads(args.input.read_text("utf-8"))
        feed_meta = data.pop("$meta", {})
        stamp = feed_meta.get("timestamp")
        data_date = args.data_date or (
            datetime.fromtimestamp(int(stamp), timezone.utc).date().isoformat()
            if stamp
            else ""
        )
        if not data_date:
            parser.error("the feed has no $meta.timestamp: give --data-date")
        specs = {name: sorted(set(values)) for name, values in sorted(data.items())}
        meta = {
            "name": args.name or "PyUp safety-db free feed",
            "format": "pyup-specs",
            "url": args.url or "https://github.com/pyupio/safety-db",
            "licence": args.licence or "CC-BY-NC-SA-4.0",
            "snapshot": args.snapshot,
            "data_date": data_date,
            "records": sum(len(values) for values in specs.values()),
            "built": built,
        }
        write_database(args.out, meta, {"specs": specs})
    print(f"wrote {args.out} ({meta['records']} records, data of {meta['data_date']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
