// Browser test of the officials' pages: a rule change proposed, refused to its proposer,
// approved by two other provincial officers, and in force. Run by
// crates/healthcode-server/tests/browser.rs, which starts a real server (SQLite, a manual
// clock at 2020-06-01 08:00 +08:00), creates three provincial officers with passwords and
// a traveller who entered from abroad ten days ago (red under the 14-day rule):
//
//   HEALTHCODE_URL=http://127.0.0.1:PORT HEALTHCODE_OFFICERS='[{"username":…,"password":…},…]' \
//   HEALTHCODE_TRAVELLER=<person id> HEALTHCODE_TRAVELLER_KEY=<their resident key> \
//   HEALTHCODE_HANDLER='{"username":…,"password":…}' (a complaint handler; the traveller
//   has complained about their entry record, urgently) \
//   node --test web-tests/officials.test.mjs
//
// The tests run in order: each is a scene of the same story.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, accessible } from './support.mjs';

const OFFICERS = JSON.parse(process.env.HEALTHCODE_OFFICERS || '[]');
const TRAVELLER = process.env.HEALTHCODE_TRAVELLER;
const TRAVELLER_KEY = process.env.HEALTHCODE_TRAVELLER_KEY; // their resident key: their code opens for them
const HANDLER = JSON.parse(process.env.HEALTHCODE_HANDLER || 'null'); // a complaint handler, for the traveller's complaint
const BORDER = JSON.parse(process.env.HEALTHCODE_BORDER || 'null'); // the border department's officer

function residentId(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}
const [A, B, C] = OFFICERS;

let browser;
let page;
let proposalPath; // /staff/rules/{id}

/** The proposed change: a 7-day window instead of 14, as version 2026.2. */
function sevenDayRules(activeSource) {
  assert.match(activeSource, /version = "2026\.1"/, 'the form starts from the rules in force');
  return activeSource.replace('version = "2026.1"', 'version = "2026.2"').replace('window_hours = 336', 'window_hours = 168');
}

/** What the change must do: an entry from abroad ten days ago no longer makes a code red. */
const SCENARIO = JSON.stringify([{
  name: 'entry-ten-days-ago',
  person: { kind: 'domestic' },
  events: [{ at: '2020-05-22T08:00:00+08:00', type: 'entry', country: 'GB', entered_at: '2020-05-22T08:00:00+08:00' }],
  expect: [{ at: '2020-06-01T08:00:00+08:00', color: 'green' }],
}], null, 2);

/** Opens `path` signed out, is sent to the sign-in page, signs in and comes back. */
async function signInAt(officer, path) {
  await page.goto(path);
  assert.match(new URL(page.url()).pathname, /^\/staff\/login$/, `${path} needs a signed-in official`);
  await page.fill('#username', officer.username);
  await page.fill('#password', officer.password);
  await Promise.all([page.waitForURL((url) => url.pathname === path), page.click('form[action="/staff/login"] button')]);
}

async function signOut() {
  await Promise.all([page.waitForURL(/\/staff\/login$/), page.click('.staffbar button[type=submit]')]);
}

async function approve() {
  await page.click('#approve');
  await page.waitForLoadState('load');
}

before(async () => {
  assert.equal(OFFICERS.length, 3, 'three provincial officers in HEALTHCODE_OFFICERS');
  ({ browser, page } = await launch());
});

after(async () => {
  await browser?.close();
});

test('signing in: a wrong password is refused without saying which part was wrong', async () => {
  await page.goto('/staff');
  assert.match(page.url(), /\/staff\/login\?next=%2Fstaff$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN', 'Chinese first');
  await accessible(page, 'sign-in');
  await shot(page, 'officials-01-sign-in');
  await page.fill('#username', A.username);
  await page.fill('#password', 'not the password');
  await page.click('form[action="/staff/login"] button');
  assert.match(await page.textContent('[role=alert]'), /用户名或密码错误/);
  assert.equal(await page.inputValue('#password'), '', 'the password is not sent back');
  await page.fill('#username', A.username);
  await page.fill('#password', A.password);
  await Promise.all([page.waitForURL(/\/staff$/), page.click('form[action="/staff/login"] button')]);
  const cookie = (await page.context().cookies()).find((c) => c.name === 'hc_staff');
  assert.ok(cookie, 'the session is kept in a cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  const mayDo = await page.textContent('#may-do');
  assert.match(mayDo, /批准规则变更/, 'a provincial officer approves rule changes');
  assert.match(mayDo, /批准管理决定/);
  await accessible(page, 'officials home');
  await shot(page, 'officials-02-home');
});

test('officer A proposes a rule change and sees its diff and scenario results', async () => {
  await page.click('.staffbar a[href="/staff/rules"]');
  assert.equal((await page.textContent('#active-version')).trim(), '2026.1');
  await page.click('a[href="/staff/rules/new"]');
  const source = await page.inputValue('#source');
  await page.fill('#source', sevenDayRules(source));
  await page.fill('#scenarios', SCENARIO);
  assert.equal(await page.inputValue('#activates_at'), '2020-06-01T08:00', 'defaults to now, Beijing time');
  await accessible(page, 'propose rules');
  await shot(page, 'officials-03-propose');
  await Promise.all([page.waitForURL(/\/staff\/rules\/rules[0-9a-f]+$/), page.click('form[action="/staff/rules/new"] button')]);
  proposalPath = new URL(page.url()).pathname;

  assert.equal(await page.getAttribute('#status', 'data-status'), 'proposed');
  assert.match(await page.textContent('h1'), /2026\.2/);
  const change = page.locator('#diff li[data-change=setting]');
  assert.equal(await change.count(), 1, 'one setting changed');
  assert.match(await change.textContent(), /window_hours.*336.*168/s);
  assert.equal(await page.getAttribute('#scenario-summary', 'data-failed'), '0');
  assert.equal(await page.locator('#scenarios li[data-ok=true]').count(), 1, 'the expectation holds');
  assert.match(await page.textContent('#scenarios'), /entry-ten-days-ago/);
  await accessible(page, 'proposal');
  await shot(page, 'officials-04-proposal');
});

test('officer A cannot approve their own proposal, and is told why', async () => {
  assert.equal(await page.locator('#approve').count(), 0, 'no Approve button for the proposer');
  assert.match(await page.textContent('#why-no-approval'), /您是提议人，不能批准自己的提议/);
  // Posted anyway (an old tab, a hand-made request): the service refuses, the page says why.
  await Promise.all([
    page.waitForURL(/\/approve$/),
    page.evaluate((action) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      document.body.append(form);
      form.submit();
    }, `${proposalPath}/approve`),
  ]);
  const alert = await page.textContent('[role=alert]');
  assert.match(alert, /提议人不能批准/, 'in Chinese');
  assert.match(alert, /the proposer of a rule change cannot approve it/, "and in the service's words");
  assert.equal(await page.getAttribute('#status', 'data-status'), 'proposed', 'nothing changed');
  assert.match(await page.textContent('#approvals'), /^0\/2/);
  await accessible(page, 'refusal');
  await shot(page, 'officials-05-proposer-refused');
  await signOut();
});

test('officers B and C approve; the rules are in force and the traveller is green', async () => {
  // The traveller's own code, in the same browser (their resident cookie is not a staff session).
  await page.goto('/signin');
  await page.fill('#key', TRAVELLER_KEY);
  await Promise.all([page.waitForURL(`**/persons/${TRAVELLER}`), page.click('form[action="/signin"] button')]);
  await page.locator('.code.red').waitFor(); // R3 under the 14-day window

  await signInAt(B, proposalPath);
  await approve();
  assert.match(await page.textContent('[role=status]'), /您的批准已记录/);
  assert.match(await page.textContent('#approvals'), new RegExp(`^1/2: ${B.username}`));
  assert.equal(await page.getAttribute('#status', 'data-status'), 'proposed', 'one approval is not enough');
  await shot(page, 'officials-06-first-approval');
  await signOut();

  await signInAt(C, proposalPath);
  assert.equal(await page.locator('#approve').count(), 1);
  await approve();
  // Its time had come (it takes effect at "now"): approved and at once in force.
  assert.equal(await page.getAttribute('#status', 'data-status'), 'active');
  assert.match(await page.textContent('#approvals'), new RegExp(`^2/2: ${B.username}.*${C.username}`));
  assert.equal(await page.locator('#approve').count(), 0, 'nothing left to approve');
  await accessible(page, 'active proposal');
  await shot(page, 'officials-07-active');

  await page.goto('/staff/rules');
  assert.equal((await page.textContent('#active-version')).trim(), '2026.2');
  assert.equal(await page.locator('#proposals tr[data-status=active]').count(), 1);
  await shot(page, 'officials-08-history');

  await page.goto('/');
  assert.match(await page.textContent('main'), /版本 2026\.2/, 'the front page shows the rules in force');
  await page.goto(`/persons/${TRAVELLER}`);
  await page.locator('.code.green').waitFor(); // re-evaluated under the 7-day window
  await shot(page, 'officials-09-traveller-green');
});

test('the officials pages in English and large text, and the other lists', async () => {
  await page.goto(`${proposalPath}?lang=en&text=large`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('main'), /Changes against the rules in force/);
  await accessible(page, 'proposal, English, large');
  await shot(page, 'officials-10-proposal-english-large');
  for (const path of ['/staff', '/staff/rules', '/staff/designations', '/staff/decisions', '/staff/alarms', '/staff/complaints', '/staff/traces']) {
    const response = await page.goto(path);
    assert.equal(response.status(), 200, path);
    await accessible(page, `${path} (English, large)`);
    await shot(page, `officials-11${path.replaceAll('/', '-')}-english-large`);
  }
  // The seeded proposals wait for officer C's approval.
  await page.goto('/staff/designations?lang=zh&text=normal');
  assert.equal(await page.locator('form[action$="/approve"] button').count(), 1, 'the designation proposal');
  await page.goto('/staff/decisions');
  assert.equal(await page.locator('form[action$="/approve"] button').count(), 1, 'the decision');
  await accessible(page, 'decisions');
  await shot(page, 'officials-12-decisions');
  await page.goto('/staff/rules/new');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip', 'a skip link first, for keyboards');
  assert.deepEqual(page.cspViolations, [], 'nothing the CSP had to block');
});

test('a complaint handler asks the department that made a disputed record to check it', async () => {
  assert.ok(HANDLER, 'a complaint handler in HEALTHCODE_HANDLER');
  await page.context().clearCookies();
  await signInAt(HANDLER, '/staff/complaints');
  const complaint = page.locator('main article').first();
  assert.match(await complaint.textContent(), /紧急/, 'graded urgent: the code stops their travel today');
  assert.match(await complaint.textContent(), /bd-1/, 'the disputed record');
  await complaint.locator('select[name=department]').selectOption('border');
  await complaint.locator('form[action$="/correction"] textarea').fill('请核对该入境记录的证件号与旅客。');
  await Promise.all([page.waitForURL(/\/staff\/complaints$/), complaint.locator('form[action$="/correction"] button').click()]);
  const asked = await page.locator('main article').first().textContent();
  assert.match(asked, /请提供记录的部门核查更正/, 'the step is shown');
  assert.equal(await page.locator('main article').first().locator('form[action$="/correction"]').count(), 0, 'one request at a time');
  await accessible(page, 'complaints with a correction request');
  await shot(page, 'officials-13-correction-requested');
  await page.goto('/staff/complaints?lang=en');
  assert.match(await page.textContent('main article'), /correction asked of the department/);
  assert.match(await page.textContent('main article'), /urgent/);
  await accessible(page, 'complaints, English');
  await page.goto('/staff/complaints?lang=zh');

  // The handler adds a common problem to the public knowledge base, in their own words.
  await page.fill('#kb-qzh', '入境记录不是我的，健康码为什么变红？');
  await page.fill('#kb-qen', 'An entry record that is not mine turned my code red: why?');
  await page.fill('#kb-azh', '请在申诉中指明该记录，处理人员将请出入境部门核查，记录有误将被撤回。');
  await page.fill('#kb-aen', 'Name the record in your complaint: the handler asks the border department to check it, and a wrong record is withdrawn.');
  await Promise.all([page.waitForURL(/\/help$/), page.click('form[action="/staff/knowledge"] button')]);
  assert.match(await page.textContent('main'), /入境记录不是我的/, 'public at once');
});

test('the border department withdraws the disputed entry record on its page, and the complaint closes', async () => {
  assert.ok(BORDER, 'a border officer in HEALTHCODE_BORDER');
  await page.context().clearCookies();
  await signInAt(BORDER, '/staff/corrections');
  const request = page.locator('main article').first();
  assert.match(await request.textContent(), /bd-1/, 'the record to check');
  assert.doesNotMatch(await request.textContent(), /没有出过国/, "never the resident's own words");
  await request.locator('form[action$="/retract"] textarea').fill('证件号录入错误，该入境记录属于另一名旅客。');
  await Promise.all([page.waitForURL(/\/staff\/corrections$/), request.locator('form[action$="/retract"] button').click()]);
  assert.equal(await page.locator('main article').count(), 0, 'answered by the withdrawal');
  await accessible(page, 'correction requests');
  await shot(page, 'officials-14-corrections-answered');
  await page.goto('/staff/corrections?lang=en');
  assert.match(await page.textContent('main'), /No requests waiting/);
  await page.goto('/staff/corrections?lang=zh');
});

test('a provincial officer at a service counter registers a resident, gives a key on paper and prints a card', async () => {
  await page.context().clearCookies();
  await signInAt(C, '/staff/counter');
  await page.fill('#id_number', residentId('33010619380101555'));
  await page.fill('#residence_area', '330106');
  await Promise.all([page.waitForLoadState('load'), page.click('button[value=key]')]);
  assert.match(await page.textContent('main'), /hcr_/, 'the key, shown once to print');
  await accessible(page, 'counter key');
  await page.goto('/staff/counter');
  await page.fill('#id_number', residentId('33010619380101555'));
  await Promise.all([page.waitForLoadState('load'), page.click('button[value=card]')]);
  assert.equal(await page.locator('.qr svg').count(), 1, 'the card, printed at the counter');
  await shot(page, 'officials-15-counter-card');
  await page.goto('/staff/counter?lang=en');
  assert.match(await page.textContent('main'), /Service counter/);
  await accessible(page, 'counter, English');
  await page.goto('/staff/counter?lang=zh');
});

test('the traveller reads the credit record made about them and appeals it', async () => {
  await page.context().clearCookies();
  await page.goto('/signin');
  await page.fill('#key', TRAVELLER_KEY);
  await Promise.all([page.waitForURL(`**/persons/${TRAVELLER}`), page.click('form[action="/signin"] button')]);
  const record = page.locator('section[aria-labelledby="credit-title"]');
  assert.match(await record.textContent(), /隐瞒/, 'the facts, as the office established them');
  await record.locator('textarea').fill('我已按规定申报入境信息，请核查。');
  await Promise.all([page.waitForURL(`**/persons/${TRAVELLER}`), record.locator('button').click()]);
  assert.match(await page.locator('section[aria-labelledby="credit-title"]').textContent(), /已申辩/);
  await accessible(page, 'a credit record on the person page');
  await page.goto(`/persons/${TRAVELLER}?lang=en`);
  assert.match(await page.locator('section[aria-labelledby="credit-title"]').textContent(), /never changes your code/);
  await page.goto(`/persons/${TRAVELLER}?lang=zh`);
});

test('an officer designates a street found by its name, seeing its name before proposing', async () => {
  await page.context().clearCookies();
  await signInAt(A, '/staff/designations');
  const picker = page.locator('#area-picker');
  await page.fill('#area_q', '北山');
  await Promise.all([page.waitForLoadState('load'), picker.locator('button[name=area_search]').click()]);
  const found = picker.locator('#area-results button', { hasText: /^浙江省杭州市西湖区北山街道$/ });
  assert.equal(await found.count(), 1, 'the street, by its full name');
  await Promise.all([page.waitForLoadState('load'), found.click()]);
  assert.equal(await page.inputValue('#area'), '330106002', 'the choice fills in the code');
  assert.match(await page.textContent('#area-picker .place'), /浙江省杭州市西湖区北山街道/, 'its name, before it is proposed');
  assert.match(await page.textContent('#area-covered'), /\d+/, 'and how many residents it covers');
  await accessible(page, 'designation form with a chosen street');
  await shot(page, 'officials-17-designation-by-name');
  await page.selectOption('#level', 'medium');
  await Promise.all([page.waitForURL(/proposed=1/), page.click('#designate')]);
  assert.match(await page.textContent('main'), /浙江省杭州市西湖区北山街道 \(330106002\)/, 'the proposal, by name');
  // A code that is no place is refused, with the nearest places offered.
  await page.fill('#area', '330106001');
  const [refused] = await Promise.all([page.waitForNavigation(), page.click('#designate')]);
  assert.equal(refused.status(), 422);
  assert.match(await page.textContent('main'), /330106002/, 'a suggestion');
});
