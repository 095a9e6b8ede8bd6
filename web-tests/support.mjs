// What the browser tests share: launching Debian's Chromium (never a download), a
// phone-sized page, screenshots, and the checks every page must pass (fits 375 px, text
// contrast at WCAG AA, every control labelled, nothing blocked by the CSP).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.HEALTHCODE_URL;
export const SHOTS = process.env.HEALTHCODE_SCREENSHOTS || 'target/browser-screenshots';
export const PHONE = { width: 375, height: 740 };

/** Chromium on a phone-sized viewport; `page.cspViolations` collects what the CSP blocked. */
export async function launch(extraArgs = []) {
  assert.ok(BASE, 'set HEALTHCODE_URL to the server under test');
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.HEALTHCODE_CHROMIUM || '/usr/bin/chromium',
    // Never a browser download: Debian's Chromium, quiet on a closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', ...extraArgs],
  });
  const context = await browser.newContext({ viewport: PHONE, baseURL: BASE });
  const page = await context.newPage();
  page.cspViolations = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) page.cspViolations.push(m.text());
  });
  return { browser, context, page };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The page is no wider than the phone: nothing scrolls sideways. */
export async function fitsThePhone(page, what) {
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
export async function lowContrast(page) {
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

/** Form controls without a label (hidden inputs need none). */
export async function unlabelled(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id || e.name));
}

/**
 * The Chinese characters of the page that render as tofu (the box a font draws for a
 * character it lacks): each is drawn on a canvas in the page's own font and compared
 * with a character no font has. Empty when a CJK font is installed (`.ci/run` installs
 * Debian's fonts-noto-cjk).
 */
export async function tofu(page) {
  return page.evaluate(() => {
    const cjk = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]/u;
    const chars = [...new Set([...document.body.innerText].filter((c) => cjk.test(c)))];
    const canvas = document.createElement('canvas');
    canvas.width = 48;
    canvas.height = 48;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.font = `36px ${getComputedStyle(document.body).fontFamily}`;
    ctx.textBaseline = 'top';
    const drawn = (c) => {
      ctx.clearRect(0, 0, 48, 48);
      ctx.fillText(c, 4, 4);
      return ctx.getImageData(0, 0, 48, 48).data.join(',');
    };
    // An unassigned code point: whatever the fonts, it is drawn as the missing glyph.
    const missing = drawn('\u0378');
    if (drawn('A') === missing) return ['(the check cannot tell a glyph from a missing one)'];
    return chars.filter((c) => drawn(c) === missing);
  });
}

/** Every check a page must pass, at normal and large text. */
export async function accessible(page, what) {
  await fitsThePhone(page, what);
  assert.deepEqual(await tofu(page), [], `${what}: Chinese text drawn as boxes (no CJK font?)`);
  assert.deepEqual(await lowContrast(page), [], `${what}: text below WCAG AA contrast`);
  assert.deepEqual(await unlabelled(page), [], `${what}: controls without a label`);
}
