// Opens the dashboard in headless chromium and waits (bounded) until a stream's card shows decoded video
// frames and a count chart with points; keeps a full-page screenshot and prints one JSON line.
//   node dashboard_check.mjs URL SCREENSHOT_PATH [STREAM]
import { describe, hasFramesAndPoints, openDashboard, run, waitForCard } from './dashboard_page.mjs';

const [url, screenshotPath, stream] = process.argv.slice(2);
if (!url || !screenshotPath) {
  console.error('usage: node dashboard_check.mjs URL SCREENSHOT_PATH [STREAM]');
  process.exit(2);
}

await run(async (keep) => {
  const session = keep(await openDashboard(url));
  const card = await waitForCard(session.page, stream, hasFramesAndPoints, 'video frames and chart points');
  await session.page.screenshot({ path: screenshotPath, fullPage: true });
  if (session.pageErrors.length) throw new Error(`the page threw: ${session.pageErrors.join('; ')}`);
  const seen = await describe(session.page);
  console.log(JSON.stringify({
    streams: seen.cards.map((c) => c.stream),
    stream: card.stream,
    state: card.state,
    video_width: card.video_width,
    video_height: card.video_height,
    chart_points: card.chart_points,
    latency_stages: card.latency_stages,
    screenshot: screenshotPath,
  }));
}, screenshotPath);
