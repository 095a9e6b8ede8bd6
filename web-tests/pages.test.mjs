// Browser tests of healthcode's pages, in Debian's Chromium driven by playwright-core.
// Run by crates/healthcode-server/tests/browser.rs, which starts a real server (SQLite,
// a manual clock at 2020-06-01 08:00 +08:00) and seeds residents in a few areas:
//
//   HEALTHCODE_URL=http://127.0.0.1:PORT node --test web-tests/pages.test.mjs
//
// Environment: HEALTHCODE_URL (required), HEALTHCODE_CHROMIUM (default /usr/bin/chromium),
// HEALTHCODE_SCREENSHOTS (default target/browser-screenshots), HEALTHCODE_FAKE_CAMERA (a
// Y4M video of a resident's code for Chromium's fake camera; the camera test needs it). The tests run in order and
// share one resident: each step is a scene of the same story.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { tofu } from './support.mjs';

const BASE = process.env.HEALTHCODE_URL;
const SHOTS = process.env.HEALTHCODE_SCREENSHOTS || 'target/browser-screenshots';
const PHONE = { width: 375, height: 740 };

let browser;
let context;
let page;
let person; // the resident registered through the page
let residentKey; // their key, which the page keeps in a cookie
let venuePath; // the venue registered through the page
const cspViolations = [];

/** A valid resident ID number (GB 11643 check character) from 17 digits. */
function residentId(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The page is no wider than the phone: nothing scrolls sideways. */
async function fitsThePhone(what) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `${what}: ${scroll}px wide in a ${client}px viewport`);
}

/**
 * Text whose contrast with its background is below WCAG AA (4.5:1, or 3:1 for large text:
 * 24px, or 18.66px bold), computed in the page from the styles the browser applied.
 */
async function lowContrast() {
  return page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own || el.closest('svg, .skip, option')) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      const [a, b] = [lum(rgb(style.color)), lum(background(el))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return bad;
  });
}

before(async () => {
  assert.ok(BASE, 'set HEALTHCODE_URL to the server under test');
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.HEALTHCODE_CHROMIUM || '/usr/bin/chromium',
    // Never a browser download: Debian's Chromium, quiet on a closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync'].concat(process.env.HEALTHCODE_FAKE_CAMERA ? [
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${process.env.HEALTHCODE_FAKE_CAMERA}`] : []),
  });
  context = await browser.newContext({ viewport: PHONE, baseURL: BASE });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
});

after(async () => {
  await browser?.close();
});

test('a resident registers by picking their district, with consent, and sees a green code', async () => {
  await page.goto('/register');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN', 'Chinese first');
  assert.match(await page.textContent('.notice'), /个人信息收集告知/);
  // The area by name, province → city → county, without typing a code (and without scripts).
  const picker = page.locator('#residence_area-picker');
  for (const name of ['浙江省', '杭州市', '西湖区']) {
    await Promise.all([page.waitForLoadState('load'), picker.locator('.choices button', { hasText: new RegExp(`^${name}$`) }).click()]);
  }
  assert.equal(await page.inputValue('#residence_area'), '330106', 'the choice fills in the code');
  assert.match(await page.textContent('#residence_area-chosen'), /浙江省.*杭州市.*西湖区/);
  assert.ok(await picker.locator('.choices button', { hasText: '北山街道' }).count() > 0, 'the streets of 西湖区 come next');
  await shot('01a-register-picker');
  await page.fill('#id_number', residentId('33010619800101123'));
  await page.fill('#name', '张三丰');
  // The consent box is required: without it the browser will not send the form.
  await page.click('#register-submit');
  assert.match(page.url(), /\/register$/, 'not sent without consent');
  await page.check('#consent');
  await shot('01-register');
  await Promise.all([page.waitForURL(/\/persons\/[A-Za-z0-9_-]+\?welcome=1$/), page.click('#register-submit')]);
  person = new URL(page.url()).pathname.split('/').pop();
  const cookie = (await context.cookies()).find((c) => c.name === 'hc_resident');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the resident key is kept in an HttpOnly cookie');
  residentKey = cookie.value;
  assert.match(await page.textContent('#key-title + p + p'), new RegExp(residentKey), 'the key, shown once');
  const code = page.locator('.code.green');
  await code.waitFor();
  assert.match(await code.textContent(), /绿码/);
  assert.match(await code.textContent(), /张\*丰/, 'the masked name');
  assert.equal(await page.locator('.qr svg').count(), 1, 'the QR, inline');
  assert.match(await page.textContent('main'), /有效至/, 'the time it is valid until');
  const refresh = await page.getAttribute('meta[http-equiv=refresh]', 'content');
  assert.ok(Number(refresh) > 0 && Number(refresh) < 300, `reloads before the 5-minute code expires (${refresh}s)`);
  await fitsThePhone('my code');
  await shot('02-code-green');
});

test('evidence arrives: the page shows yellow with its reason and my history has it', async () => {
  // The clinic's feed: a health data source's API key, given by the Rust test.
  const answer = await fetch(`${BASE}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${process.env.HEALTHCODE_HEALTH_KEY}` },
    body: JSON.stringify({ id: 'clinic-1', person_id: person, type: 'fever', onset_at: '2020-06-01T07:00:00+08:00' }),
  });
  assert.equal(answer.status, 201, await answer.text());
  await page.reload();
  const code = page.locator('.code.yellow');
  await code.waitFor();
  assert.match(await code.textContent(), /黄码/);
  assert.deepEqual(await lowContrast(), [], 'a yellow code is readable');
  const main = await page.textContent('main');
  assert.match(main, /Y1/, 'the rule');
  assert.match(main, /发热/, 'the evidence kind');
  assert.match(main, /2020-06-01/, 'the evidence date');
  assert.match(main, /核酸检测阴性/, 'what will turn it green');
  await fitsThePhone('yellow code');
  await shot('03-code-yellow');

  await page.click(`a[href="/persons/${person}/history"]`);
  const rows = page.locator('table tr');
  assert.ok((await rows.count()) >= 2, 'a header and at least one entry');
  assert.match(await page.textContent('table'), /绿码 → 黄码/);
  await fitsThePhone('history');
  await shot('04-history');

  await page.goto(`/persons/${person}/card`);
  assert.equal(await page.locator('.qr svg').count(), 1);
  await shot('05-card');
});

test('a venue registers, displays its code, and a yellow code is denied at the supermarket', async () => {
  await page.goto('/venues/new');
  await page.fill('#name', '联华超市');
  await page.selectOption('#category', 'supermarket');
  await Promise.all([page.waitForURL(/\/venues\/[^/]+\?new=1$/), page.click('#venue-submit')]);
  venuePath = new URL(page.url()).pathname;
  assert.match(await page.textContent('#operator-key'), /^hcv_/, 'the operator key, shown once');
  const cookies = await context.cookies();
  const key = cookies.find((c) => c.name === 'operator_key');
  assert.ok(key, 'the key is kept in a cookie');
  assert.equal(key.httpOnly, true);
  assert.equal(key.sameSite, 'Strict');
  assert.equal(key.path, venuePath, 'scoped to the venue');
  await shot('06-venue');

  await page.click(`a[href="${venuePath}/display"]`);
  assert.equal(await page.locator('.qr svg').count(), 1, 'the venue code, full screen');
  const venueCode = (await page.textContent('#venue-token')).trim();
  assert.match(venueCode, /^HV1:/);
  await fitsThePhone('venue display');
  await shot('07-venue-display');

  await page.goto(`/scan?person=${person}`);
  assert.equal(await page.inputValue('#person_id'), person);
  await page.fill('#venue_code', venueCode);
  await page.click('button[type=submit]');
  const decision = page.locator('.decision');
  await decision.waitFor();
  assert.equal(await decision.getAttribute('data-outcome'), 'deny');
  assert.match(await decision.textContent(), /劝阻/);
  assert.match(await decision.textContent(), /yellow_restricted_venue/);
  assert.match(await decision.textContent(), /联华超市 · 超市/, 'the venue by its name and category');
  await fitsThePhone('scan');
  assert.deepEqual(await lowContrast(), [], 'the decision is readable');
  await shot('08-scan-denied');

  await page.goto(venuePath);
  assert.equal((await page.textContent('td[data-outcome=deny]')).trim(), '1', "today's check-ins count the refusal");
});

test('a resident sees who read their data and files a complaint', async () => {
  await page.goto(`/persons/${person}`);
  await page.click(`a[href="/persons/${person}/accesses"]`);
  assert.match(await page.textContent('table'), /venue:/, 'the supermarket that checked the code');
  await fitsThePhone('access log');
  await shot('08b-accesses');
  // Erasing everything is offered, and refused while the rules still use the records.
  await page.check('#confirm-erasure');
  const [refusal] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/erasure"] button[type=submit]')]);
  assert.equal(refusal.status(), 409, 'a yellow code: the records are still needed');
  assert.match(await page.textContent('main'), /yellow/);
  await page.goto(`/persons/${person}/accesses`);
  await page.goto(`/persons/${person}/complaints`);
  await page.selectOption('#subject', 'evidence');
  const record = await page.locator('#event_id option').nth(1).getAttribute('value');
  assert.ok(record, 'the record behind the colour is offered to dispute');
  await page.selectOption('#event_id', record);
  await page.selectOption('#blocks', 'medical');
  await page.fill('#text', '我没有发烧，这条记录有误。');
  await Promise.all([page.waitForURL(new RegExp(`/persons/${person}/complaints$`)), page.click('form[method=post][action$="/complaints"] button[type=submit]')]);
  const filed = await page.textContent('main article');
  assert.match(filed, /处理中/, 'open, waiting for an answer');
  assert.match(filed, /yellow \(Y1\)/, 'the colour and reasons it disputes');
  assert.match(filed, /紧急/, 'urgent: a yellow code that stops medical care today');
  assert.match(filed, new RegExp(record), 'the disputed record');
  assert.match(filed, /提交申诉/, 'the steps, from the first');
  await fitsThePhone('complaints');
  await shot('08c-complaint');
});

test('a resident declares a cough on the page; a stay without its arrival is refused', async () => {
  await page.goto(`/persons/${person}`);
  await page.click(`a[href="/persons/${person}/declare"]`);
  await page.check('#item-cough');
  await Promise.all([page.waitForURL(new RegExp(`/persons/${person}$`)), page.click('#declare-submit')]);
  await page.locator('.code').first().waitFor(); // back on the code, which the rules judged
  // A stay given without its arrival time is refused on the page, and nothing is recorded.
  await page.goto(`/persons/${person}/declare`);
  await page.fill('#stay_area', '330106');
  const [refused] = await Promise.all([page.waitForNavigation(), page.click('#declare-submit')]);
  assert.equal(refused.status(), 422);
  assert.match(await page.textContent('[role=alert]'), /到达时间/);
  await page.goto(`/persons/${person}/declare?lang=en`);
  assert.match(await page.textContent('main'), /Health declaration/);
  await fitsThePhone('declaration, English');
  assert.deepEqual(await lowContrast(), [], 'the declaration page is readable');
  await shot('08d-declaration-english');
  await page.goto(`/persons/${person}/declare?lang=zh`);
});

test('a resident adds a parent without a phone, checks in with her in one scan, and prints a card that lasts', async () => {
  await page.goto(`/persons/${person}`);
  await page.locator('form[action="/family"]').evaluate((form) => form.closest('details').open = true);
  await page.selectOption('#f_relation', 'parent');
  await page.fill('#f_id_number', residentId('33010619500101111'));
  await Promise.all([page.waitForLoadState('load'), page.click('#family-add')]);
  await page.goto(`${venuePath}/display`);
  const venueCode = (await page.textContent('#venue-token')).trim();
  await page.goto('/scan');
  const companion = page.locator('input[id^="companion-"]');
  assert.equal(await companion.count(), 1, 'the family member is offered as a companion');
  await companion.check();
  await page.fill('#venue_code', venueCode);
  await page.click('form[action="/scan"] button[type=submit]');
  await page.locator('.decision').first().waitFor();
  assert.equal(await page.locator('.decision').count(), 2, 'one decision each, from one scan');
  assert.deepEqual(await page.locator('.decision').evaluateAll((boxes) => boxes.map((b) => b.dataset.outcome)), ['deny', 'allow'],
    'the yellow resident is refused at the supermarket, her green mother admitted');
  await shot('08e-companions');

  await page.goto(`/persons/${person}`);
  await Promise.all([page.waitForURL(/\/cards\/print$/), page.click('form[action$="/cards/print"] button')]);
  assert.equal(await page.locator('.qr svg').count(), 1, "the card's code");
  const cardNumber = (await page.textContent('main code')).trim();
  assert.match(cardNumber, /^card-/);
  assert.doesNotMatch(await page.textContent('main'), /黄码|yellow/i, 'the card shows no colour');
  await fitsThePhone('printed card');
  await shot('08f-printed-card');
  await page.goto(`/persons/${person}`);
  await page.fill('#card_id', cardNumber);
  await Promise.all([page.waitForURL(new RegExp(`/persons/${person}$`)), page.click('form[action$="/cards/revoke"] button')]);
  await page.fill('#card_id', cardNumber);
  const [again] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/cards/revoke"] button')]);
  assert.equal(again.status(), 409, 'revoked once');

  // The same flows in English: the scan page's companions, a printed card, the complaint
  // page with its search of common problems, the knowledge base, the erasure form.
  await page.goto('/scan?lang=en');
  assert.match(await page.textContent('main'), /Family members with me/);
  await page.goto(`/persons/${person}`);
  await Promise.all([page.waitForURL(/\/cards\/print$/), page.click('form[action$="/cards/print"] button')]);
  assert.match(await page.textContent('main'), /shows no colour/);
  await fitsThePhone('printed card, English');
  await page.goto(`/persons/${person}/complaints?q=yellow`);
  assert.match(await page.textContent('main'), /Not among the common problems/);
  assert.equal(await page.inputValue('#text'), 'yellow', 'the complaint starts with what was searched');
  await page.goto('/help');
  assert.match(await page.textContent('main'), /Common problems/);
  await page.goto(`/persons/${person}/accesses`);
  assert.match(await page.textContent('main'), /Erase everything about me/);
  await page.goto(`/persons/${person}?lang=zh`);
});

test('a verifier pastes a code and sees the decision', async () => {
  const asResident = { headers: { authorization: `Bearer ${residentKey}` } };
  const issued = await (await fetch(`${BASE}/v1/persons/${person}/token`, asResident)).json();
  await page.goto('/verify');
  await page.fill('#token', issued.token);
  await page.selectOption('#category', 'supermarket');
  await page.click('form[action="/verify"] button[type=submit]');
  assert.equal(await page.getAttribute('.decision', 'data-outcome'), 'deny');
  await shot('09-verify-deny');
  await page.fill('#token', issued.token);
  await page.selectOption('#category', 'bus');
  await page.click('form[action="/verify"] button[type=submit]');
  assert.equal(await page.getAttribute('.decision', 'data-outcome'), 'allow_with_mask');
  assert.match(await page.textContent('.decision'), /戴口罩/);
  assert.deepEqual(await lowContrast(), [], 'a yellow decision is readable');
  await shot('10-verify-mask');
  // A picture of the code (the server's own PNG rendering), uploaded.
  const png = Buffer.from(await (await fetch(`${BASE}/v1/persons/${person}/qr.png`, asResident)).arrayBuffer());
  await page.setInputFiles('#image', { name: 'code.png', mimeType: 'image/png', buffer: png });
  await page.selectOption('#upload-category', 'museum');
  await page.click('form[action="/verify/upload"] button[type=submit]');
  assert.equal(await page.getAttribute('.decision', 'data-outcome'), 'deny');
  assert.match(await page.textContent('.decision'), /yellow_restricted_venue/);
  await page.setInputFiles('#image', { name: 'nothing.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
  await page.click('form[action="/verify/upload"] button[type=submit]');
  assert.match(await page.textContent('.decision'), /读不出二维码/);
  await shot('10b-verify-upload');
  await page.fill('#token', 'HC1:NOT-A-CODE');
  await page.click('form[action="/verify"] button[type=submit]');
  assert.equal(await page.getAttribute('.decision', 'data-outcome'), 'deny');
  assert.match(await page.textContent('.decision'), /bad_encoding/);
});

test('a verifier scans a code with the camera (the one page with scripts)', { skip: !process.env.HEALTHCODE_FAKE_CAMERA }, async () => {
  const response = await page.goto('/verify/camera');
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  await page.waitForURL(/\/verify$/, { timeout: 15000 }); // the script read the code and sent the form
  const decision = page.locator('.decision');
  await decision.waitFor();
  assert.match(await decision.textContent(), /黄码/, "the seeded yellow resident's code");
  await shot('10c-verify-camera');
  const plain = await page.goto('/verify');
  assert.doesNotMatch(plain.headers()['content-security-policy'], /script-src/, 'no scripts anywhere else');
});

test('the dashboard draws its charts as SVG', async () => {
  await page.goto('/dashboard');
  const bars = (chart, colour) => page.locator(`#${chart} rect.bar[data-colour=${colour}]`);
  assert.ok((await bars('chart-colours', 'green').count()) === 1);
  assert.ok(Number(await bars('chart-colours', 'yellow').getAttribute('data-count')) >= 2, 'seeded + registered');
  assert.ok((await bars('chart-colours', 'red').count()) === 1);
  const tiles = page.locator('#chart-counties g.tile');
  assert.ok((await tiles.count()) >= 2, 'a tile for each of several counties');
  const counts = await tiles.evaluateAll((gs) => gs.flatMap((g) => [g.dataset.residents, g.dataset.red, g.dataset.yellow].map(Number)));
  for (const count of counts) {
    assert.ok(count === 0 || (count >= 10 && count % 10 === 0), `a county's count is rounded to tens, none under ten: ${count}`);
  }
  assert.match(await page.textContent('#chart-counties'), /西湖区/, 'the tiles are named');
  assert.equal(await page.getAttribute('#chart-counties g.tile[data-area="330106"]', 'data-state'), 'designated',
    '北山街道 is designated; fewer than ten yellow codes are not shown');
  assert.match(await page.textContent('#counties tr[data-area="330106"]'), /西湖区[\s\S]*330106[\s\S]*中风险：北山街道/);
  assert.ok((await bars('chart-changes', 'yellow').count()) >= 1, "today's changes to yellow");
  assert.match(await page.textContent('main'), /R1/, 'the active rules, read only');
  await fitsThePhone('dashboard');
  await shot('11-dashboard');
});

test('English switch and large-text mode, remembered across pages', async () => {
  await page.goto('/');
  await page.click('a[hreflang=en]');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('h1'), /Health codes/);
  assert.doesNotMatch(await page.textContent('main'), /[\u4e00-\u9fff]{2}/, 'no Chinese left on the English front page but data');
  await page.goto(`/persons/${person}`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice is kept in a cookie');
  assert.match(await page.textContent('main'), /Why this colour/);
  await shot('12-code-english');

  await page.click('text=Large text');
  assert.equal(await page.getAttribute('html', 'class'), 'large');
  const size = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
  assert.equal(size, '22px');
  await fitsThePhone('large text, my code');
  await shot('13-code-large-english');
  await page.goto('/dashboard');
  assert.equal(await page.getAttribute('html', 'class'), 'large', 'kept across pages');
  await fitsThePhone('large text, dashboard');
  await page.click('a[hreflang=zh]');
  await page.click('text=标准字号');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await page.getAttribute('html', 'class'), null);
});

test('every page fits 375 px, normal and large, has AA contrast, and starts with a skip link for keyboards', async () => {
  const paths = ['/', '/notice', '/register', `/persons/${person}`, `/persons/${person}/history`,
    `/persons/${person}/card`, `/persons/${person}/accesses`, `/persons/${person}/complaints`, `/persons/${person}/declare`, '/help', '/signin',
    '/venues/new', '/scan', '/verify', '/dashboard'];
  for (const text of ['normal', 'large']) {
    for (const path of paths) {
      await page.goto(`${path}${path.includes('?') ? '&' : '?'}text=${text}`);
      await fitsThePhone(`${path} (${text})`);
      assert.deepEqual(await lowContrast(), [], `${path}: text below WCAG AA contrast`);
      assert.deepEqual(await tofu(page), [], `${path}: Chinese text drawn as boxes (no CJK font?)`);
    }
  }
  await page.goto('/register?text=normal');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), '健康码');
  // Every form control has a label.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')].filter((e) => !e.labels || e.labels.length === 0).length);
  assert.equal(unlabelled, 0);
  assert.deepEqual(cspViolations, [], 'nothing the CSP had to block');
});

test('an explanation speaks of the place of a stay by its name', async () => {
  // A resident of 北山街道, and the telecom feed's record of their stay in that street,
  // which the seeded designation made a medium-risk area.
  const registered = await fetch(`${BASE}/v1/persons`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id_type: 'resident_id', id_number: residentId('33010619900101222'), residence_area: '330106002' }),
  });
  assert.equal(registered.status, 201, await registered.clone().text());
  const { person_id: resident, resident_key: key } = await registered.json();
  const stay = await fetch(`${BASE}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${process.env.HEALTHCODE_TELECOM_KEY}` },
    body: JSON.stringify({ id: 'tel-beishan-1', person_id: resident, type: 'stay', area: '330106002', from: '2020-06-01T07:00:00+08:00', to: null }),
  });
  assert.equal(stay.status, 201, await stay.text());
  await context.clearCookies();
  await page.goto('/signin');
  await page.fill('#key', key);
  await Promise.all([page.waitForURL(`**/persons/${resident}`), page.click('form[action="/signin"] button')]);
  await page.locator('.code.yellow').waitFor();
  assert.match(await page.textContent('main'), /浙江省杭州市西湖区北山街道 \(330106002\)/, 'the stay by the name of its place');
  await shot('20-explanation-place-names');
  await page.goto(`/persons/${resident}?lang=en`);
  assert.match(await page.textContent('main'), /Beishan Subdistrict, Xihu District, Hangzhou City, Zhejiang Province/);
  await page.goto(`/persons/${resident}?lang=zh`);
});
