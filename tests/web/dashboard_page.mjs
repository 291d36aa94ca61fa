// Shared by the dashboard checks: Debian's chromium through playwright-core, and bounded waits on what
// the dashboard shows (its cards carry data-stream, data-state, img.live-video and canvas.count-chart).
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Generous: the page waits on a detector running on two shared cores.
export const TIMEOUT_MS = 1000 * Number(process.env.DASHBOARD_TIMEOUT_S || 60);

export async function openDashboard(url) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT_MS });
  return { browser, page, pageErrors };
}

// What the page shows, per card: read in the page, for the JSON line and for failure messages.
export function describe(page) {
  return page.evaluate(() => ({
    connection: document.getElementById('connection')?.textContent ?? null,
    messages: [...document.querySelectorAll('#messages .message')].map((m) => ({
      kind: m.dataset.kind, text: m.firstElementChild.textContent,
    })),
    cards: [...document.querySelectorAll('article.stream-card')].map((card) => ({
      stream: card.dataset.stream,
      state: card.dataset.state ?? null,
      video_width: card.querySelector('img.live-video')?.naturalWidth ?? 0,
      video_height: card.querySelector('img.live-video')?.naturalHeight ?? 0,
      chart_points: Number(card.querySelector('canvas.count-chart')?.dataset.points ?? 0),
      latency_stages: [...card.querySelectorAll('.latency-segment')].map((s) => s.dataset.stage),
      crossing_points: Number(card.querySelector('canvas.crossings-chart')?.dataset.points ?? 0),
      events: [...card.querySelectorAll('.event-item')].map((item) => item.dataset.type),
      event_thumbnails: [...card.querySelectorAll('img.event-thumb')]
        .filter((img) => img.complete && img.naturalWidth > 0).length,
    })),
  }));
}

// Waits until `accept(card)` holds for the card of `stream` (or, without a name, for any card); answers
// that card. On timeout, or as soon as `failure(seen)` names one, throws with everything the page showed.
export async function waitForCard(page, stream, accept, what, failure = () => null) {
  const deadline = Date.now() + TIMEOUT_MS;
  let seen;
  for (;;) {
    seen = await describe(page);
    const card = seen.cards.find((c) => (stream ? c.stream === stream : true) && accept(c));
    if (card) return card;
    const failed = failure(seen);
    if (failed) throw new Error(`${failed}, waiting for ${what}; the page showed ${JSON.stringify(seen)}`);
    if (Date.now() > deadline) break;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out after ${TIMEOUT_MS / 1000} s waiting for ${what}` +
    `${stream ? ` of stream '${stream}'` : ''}; the page showed ${JSON.stringify(seen)}`);
}

export const hasFramesAndPoints = (card) => card.video_width > 0 && card.chart_points > 1;

// A failure for waitForCard: an error message on the page (e.g. the API's answer to a start or stop).
export const shownError = (seen) => {
  const error = seen.messages.find((m) => m.kind === 'error');
  return error ? `the dashboard shows the error "${error.text}"` : null;
};

// Runs `main`; an error becomes one line on stderr and exit status 1, with a screenshot if it can.
export async function run(main, screenshotPath) {
  let session;
  try {
    await main((opened) => (session = opened));
  } catch (error) {
    console.error(`dashboard check failed: ${error.message}`);
    if (session && screenshotPath) await session.page.screenshot({ path: screenshotPath, fullPage: true }).catch(() => {});
    process.exitCode = 1;
  } finally {
    if (session) await session.browser.close();
  }
}
