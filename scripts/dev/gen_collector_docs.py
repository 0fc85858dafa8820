#!/usr/bin/env python3
"""Regenerates the "## Configuration keys" section of every docs/collectors/<type>.md from the
collector's schema (`opsmaturity collectors TYPE`). The section goes right after the example
config (before the doc's second heading). CollectorDocs.EveryTypeDocumentsItsConfigAndEvidenceKeys
checks that the docs match.

Usage: scripts/dev/gen_collector_docs.py [path/to/opsmaturity]"""
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/agent/opsmaturity")
heading = "## Configuration keys\n"

for t in subprocess.run([binary, "collectors"], check=True, capture_output=True,
                        text=True).stdout.split():
    section = subprocess.run([binary, "collectors", t], check=True, capture_output=True,
                             text=True).stdout
    path = os.path.join(root, "docs/collectors", t + ".md")
    text = open(path, encoding="utf-8").read()
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + text[end + 1:] if end >= 0 else text[:start]
    at = text.find("\n## ")
    if at < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        text = text[:at + 1] + section + "\n" + text[at + 1:]
    open(path, "w", encoding="utf-8").write(text)
    print("wrote", path)
