// ui.mjs drives headless Chromium through atoll's web UI, as a person
// would, for testdrive/e2e/browser_test.go, which starts the emulator and
// atoll and passes:
//
//   ATOLL_URL       atoll's base URL
//   REPO            the private repository under test (owner/name)
//   WRITER          a user with write permission on it
//   OUTSIDER        a user without access
//   SHOTS           directory for a screenshot of each page
//   CHROMIUM        the browser binary (default /usr/bin/chromium)
//
// It prints one line per step and exits non-zero at the first failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { ATOLL_URL, REPO, WRITER, OUTSIDER, SHOTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const step = (msg) => console.log('browser: ' + msg);

function fail(msg) {
  throw new Error(msg);
}

// open starts a browser with a fresh profile directory.
async function open() {
  const profile = mkdtempSync(join(tmpdir(), 'atoll-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx.setDefaultTimeout(60000);
  return { ctx, page: ctx.pages()[0] || await ctx.newPage(), close: async () => { await ctx.close(); rmSync(profile, { recursive: true, force: true }); } };
}

// until polls cond from here (the pages' Content-Security-Policy forbids
// the eval that page.waitForFunction needs).
async function until(what, cond, timeout = 60000) {
  const end = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > end) fail('timed out waiting: ' + what);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

// login goes to atoll, is sent to GitHub's (the emulator's) authorize
// page and picks the user there.
async function login(page, user, shotName) {
  await page.goto(ATOLL_URL + '/');
  if (!page.url().includes('/login/oauth/authorize')) fail('not sent to the authorize page: ' + page.url());
  if (shotName) await shot(page, shotName);
  const pick = page.locator(`button[value="${user}"]`);
  if (await pick.count() > 0) {
    await pick.click();
  } else { // a user GitHub has not shown yet: typed in
    await page.fill('input[name="login"]', user);
    await page.click('button:text-is("Sign in")');
  }
  await page.waitForURL(ATOLL_URL + '/');
  const me = await page.textContent('nav .me');
  if (!me || !me.includes(user)) fail('signed in as ' + me + ', want ' + user);
  step('signed in as ' + user);
}

async function main() {
  const w = await open();
  const page = w.page;
  await login(page, WRITER, 'login');
  if (!(await page.content()).includes(REPO)) fail('the writer does not see ' + REPO + ' on the front page');
  await shot(page, 'index');

  // Find the running job and follow its log live.
  let href = null;
  for (let i = 0; i < 200 && !href; i++) {
    await page.goto(ATOLL_URL + '/jobs?state=running');
    href = await page.getAttribute('table a[href^="/jobs/j"]', 'href').catch(() => null);
    if (!href) await page.waitForTimeout(300);
  }
  if (!href) fail('no running job appeared on /jobs');
  await shot(page, 'jobs');
  await page.goto(ATOLL_URL + href);
  const before = (await page.textContent('#log')).length;
  await until('the live log to grow', async () => (await page.textContent('#log')).length > before + 20);
  step('the live log grew from ' + before + ' characters');
  await shot(page, 'job-live');
  await until('the job to finish', async () => (await page.textContent('#live')).startsWith('finished'), 180000);
  await page.reload();
  await shot(page, 'job-done');
  step('the job finished');

  // Release the lock, through the confirmation.
  await page.goto(ATOLL_URL + '/locks');
  await shot(page, 'locks');
  const row = page.locator('tr', { hasText: REPO });
  if (await row.count() !== 1) fail('the lock of ' + REPO + ' is not on /locks');
  await row.locator('button', { hasText: 'Release' }).click();
  await page.waitForURL(ATOLL_URL + '/locks/release');
  await shot(page, 'release-confirm');
  await page.click('#confirm');
  await page.waitForURL(ATOLL_URL + '/locks');
  if (await page.locator('tr', { hasText: REPO }).count() !== 0) fail('the lock is still listed after the release');
  step('released the lock');

  await page.goto(ATOLL_URL + '/audit?action=lock.released');
  const trail = await page.textContent('main');
  if (!trail.includes(WRITER) || !trail.includes(REPO)) fail('the release is not in /audit');
  await shot(page, 'audit');
  step('the release is in the audit trail');
  for (const [path, name] of [['/drift', 'drift'], ['/repos/' + REPO, 'repo']]) {
    await page.goto(ATOLL_URL + path);
    await shot(page, name);
  }
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(ATOLL_URL + '/');
  await shot(page, 'index-phone-dark');
  await w.close();

  // Someone without access sees none of it.
  const o = await open();
  await login(o.page, OUTSIDER);
  for (const path of ['/', '/locks', '/jobs', '/drift', '/audit', href]) {
    await o.page.goto(ATOLL_URL + path);
    if ((await o.page.content()).includes(REPO)) fail('the outsider sees ' + REPO + ' on ' + path);
  }
  await o.page.goto(ATOLL_URL + '/');
  await shot(o.page, 'index-outsider');
  step('the outsider sees nothing of ' + REPO);
  await o.close();
}

main().then(() => step('ok'), (err) => { console.error('browser: FAILED: ' + err.message); process.exit(1); });
