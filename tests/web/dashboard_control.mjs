// Drives the dashboard's controls in headless chromium: saves the token, starts a stream with the
// "Start stream" form, waits (bounded) until its card shows video frames and chart points, keeps a
// screenshot, presses its Stop button and waits until the card shows `stopped`. Prints one JSON line.
//   node dashboard_control.mjs URL SCREENSHOT_PATH --token T --name N --source S [--detector D]
//        [--frame-step K] [--interval SECONDS] [--mode realtime|offline] [--loop]
import { parseArgs } from 'node:util';
import { hasFramesAndPoints, openDashboard, run, shownError, waitForCard } from './dashboard_page.mjs';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    token: { type: 'string', default: '' },
    name: { type: 'string' },
    source: { type: 'string' },
    detector: { type: 'string', default: 'hog' },
    'frame-step': { type: 'string', default: '' },
    interval: { type: 'string', default: '' },
    mode: { type: 'string', default: 'realtime' },
    loop: { type: 'boolean', default: false },
  },
});
const [url, screenshotPath] = positionals;
if (!url || !screenshotPath || !options.name || !options.source) {
  console.error('usage: node dashboard_control.mjs URL SCREENSHOT_PATH --token T --name N --source S [--detector D] ' +
    '[--frame-step K] [--interval SECONDS] [--mode realtime|offline] [--loop]');
  process.exit(2);
}

await run(async (keep) => {
  const { page, pageErrors } = keep(await openDashboard(url));
  const name = options.name;

  await page.fill('#token', options.token);
  await page.click('#token-form button[type=submit]');
  await page.click('#start-panel summary');
  await page.fill('#start-form [name=name]', name);
  await page.fill('#start-form [name=source]', options.source);
  await page.fill('#start-form [name=detector]', options.detector);
  await page.fill('#start-form [name=frame_step]', options['frame-step']);
  await page.fill('#start-form [name=interval]', options.interval);
  await page.selectOption('#start-form [name=mode]', options.mode);
  await page.setChecked('#start-form [name=loop]', options.loop);
  await page.click('#start-submit');

  const started = await waitForCard(page, name, hasFramesAndPoints, 'video frames and chart points', shownError);
  await page.screenshot({ path: screenshotPath, fullPage: true });

  // Found by comparing data-stream in the page: a name needs no selector escaping.
  const card = await page.evaluateHandle(
    (n) => [...document.querySelectorAll('article.stream-card')].find((c) => c.dataset.stream === n), name);
  await (await card.asElement().$('button.stop-stream')).click();
  const stopped = await waitForCard(page, name, (c) => c.state === 'stopped', "the state 'stopped'", shownError);
  if (pageErrors.length) throw new Error(`the page threw: ${pageErrors.join('; ')}`);

  console.log(JSON.stringify({
    started: name,
    video_width: started.video_width,
    chart_points: started.chart_points,
    state_after_stop: stopped.state,
    screenshot: screenshotPath,
  }));
}, screenshotPath);
