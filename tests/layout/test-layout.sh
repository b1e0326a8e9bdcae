#!/bin/sh
# The layout rules of knet-transport/ (tests/layout/check-layout.py): no
# cycle of calls between files, the layers lib -> tool and lib -> daemon
# (common -> io -> parent), no file over 600 lines, no function over 80.
# First shows that each rule can fail, then checks the build.
set -e
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/check-layout.py" --self-test
for f in "${top_srcdir:?}"/agent/disklink* "$top_srcdir"/agent/dl-*; do [ "$(wc -l <"$f")" -le 600 ] || { echo "FAIL: $f has over 600 lines (split it into agent/dl-* modules)"; exit 1; }; done
exec python3 "$here/check-layout.py" "${top_srcdir:?}" "${top_builddir:?}"
