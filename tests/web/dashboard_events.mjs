// Opens the dashboard in headless chromium and waits (bounded) until a counting stream's card lists
// events with loaded thumbnails and draws a crossings chart with points; keeps a full-page screenshot and
// prints one JSON line.
//   node dashboard_events.mjs URL SCREENSHOT_PATH STREAM
import { describe, openDashboard, run, waitForCard } from './dashboard_page.mjs';

const [url, screenshotPath, stream] = process.argv.slice(2);
if (!url || !screenshotPath || !stream) {
  console.error('usage: node dashboard_events.mjs URL SCREENSHOT_PATH STREAM');
  process.exit(2);
}

const hasEventsAndCrossings = (card) =>
  card.video_width > 0 && card.event_thumbnails > 0 && card.crossing_points > 1;

await run(async (keep) => {
  const session = keep(await openDashboard(url));
  const card = await waitForCard(session.page, stream, hasEventsAndCrossings,
    'events with thumbnails and a crossings chart');
  await session.page.screenshot({ path: screenshotPath, fullPage: true });
  if (session.pageErrors.length) throw new Error(`the page threw: ${session.pageErrors.join('; ')}`);
  const seen = await describe(session.page);
  console.log(JSON.stringify({
    streams: seen.cards.map((c) => c.stream),
    stream: card.stream,
    video_width: card.video_width,
    events: card.events,
    event_thumbnails: card.event_thumbnails,
    crossing_points: card.crossing_points,
    chart_points: card.chart_points,
    screenshot: screenshotPath,
  }));
}, screenshotPath);
