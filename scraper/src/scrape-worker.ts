// A scrape worker thread: scrapes the targets the scraper hands it, end to end
// (HTTP request, body read under the limit, parse, figures), and answers with
// the result. Run here, no body (however large or hostile) holds the scraper's
// event loop, and the other cores do the HTTP and parsing.

import { parentPort } from 'node:worker_threads';
import { figuresFromBody } from '@vigil/core/heartbeat';
import { runScrapeTask, type ScrapeTask } from './scrape-task.js';

const port = parentPort;
if (!port) throw new Error('scrape-worker runs as a worker thread of the scraper');

port.on('message', (m: { id: number; task: ScrapeTask }) => {
  void runScrapeTask(m.task, figuresFromBody).then((result) => port.postMessage({ id: m.id, result }));
});
