// A short run of a client typed from openapi.yaml (openapi-typescript + openapi-fetch) against
// a live server: one image, a small batch polled to its end, a scan of a page served here (the
// server must allow 127.0.0.1), history and usage.
//
//     node dist/smoke.js BASE_URL API_KEY
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.js";

const [baseUrl, key] = process.argv.slice(2);
if (!baseUrl || !key) {
  throw new Error("usage: smoke.js BASE_URL API_KEY");
}
const image = readFileSync(new URL("../../../fixtures/tiny-1x1.png", import.meta.url)).toString("base64");
const client = createClient<paths>({ baseUrl, headers: { "x-api-key": key } });

function check(condition: unknown, what: string): asserts condition {
  if (!condition) {
    throw new Error(`smoke run failed: ${what}`);
  }
}

const generated = await client.POST("/api/v1/generate", {
  body: { image_base64: image, fields: ["alt_text"] },
});
check(generated.data, `generate answered ${generated.response.status}: ${JSON.stringify(generated.error)}`);
check(generated.data.status === "completed" && generated.data.results.alt_text, "generate completed");
console.log(`generate: ${generated.data.id} '${generated.data.results.alt_text}' (${generated.data.meta.credits_used} credit)`);

// Our additions: the builtin writes English only, so French is listed as failed, not charged.
const fitted = await client.POST("/api/v1/generate", {
  body: { image_base64: image, fields: ["alt_text"], languages: ["en", "fr"], role: "chart", mode: "auto" },
});
check(fitted.data, `generate with our additions answered ${fitted.response.status}`);
check(fitted.data.failed_languages?.[0] === "fr" && fitted.data.meta.credits_used === 1, "French failed, not charged");
check(fitted.data.results.long_description && fitted.data.results.decorative === false, "a chart's long description and verdict");
console.log(`generate with our additions: failed ${fitted.data.failed_languages}, decorative ${fitted.data.results.decorative}`);

const submitted = await client.POST("/api/v1/generate/bulk", {
  body: { images: [{ image_base64: image }, { image_base64: image }] },
});
check(submitted.data, `bulk answered ${submitted.response.status}: ${JSON.stringify(submitted.error)}`);
const batchId = submitted.data.batch_id;
const deadline = Date.now() + 60_000;
let batch;
for (;;) {
  const polled = await client.GET("/api/v1/batches/{batch_id}", { params: { path: { batch_id: batchId } } });
  check(polled.data, `batch answered ${polled.response.status}`);
  batch = polled.data;
  if (batch.status !== "processing") break;
  check(Date.now() < deadline, "the batch finished in time");
  await new Promise((resolve) => setTimeout(resolve, 100));
}
check(batch.status === "completed" && batch.completed === 2, `batch completed: ${JSON.stringify(batch)}`);
console.log(`bulk: ${batch.batch_id} ${batch.status}, ${batch.completed} of ${batch.total}`);

// A page with a link whose image has no alt text, and a decorative image.
const page = '<html><body><a href="/p"><img src="tiny.png"></a><img src="tiny.png" alt=""></body></html>';
const site = createServer((request, response) => {
  const isPage = request.url === "/page.html";
  response.writeHead(200, { "Content-Type": isPage ? "text/html" : "image/png" });
  response.end(isPage ? page : Buffer.from(image, "base64"));
});
await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
const scanned = await client.POST("/api/v1/scan", { body: { page_url: `${siteUrl}/page.html` } });
check(scanned.data, `scan answered ${scanned.response.status}: ${JSON.stringify(scanned.error)}`);
const [linked, decorative] = scanned.data.images;
check(scanned.data.summary.found === 2 && scanned.data.summary.need_alt_text === 1, "two images, one needing text");
check(linked?.alt === null && linked.role === "link" && linked.findings[0]?.code === "missing", "the link's image has no alt");
check(decorative?.alt === "" && decorative.decorative === "empty_alt", "the decorative image");
console.log(`scan: ${scanned.data.summary.found} images, ${scanned.data.summary.need_alt_text} need alt text`);
site.close();

const history = await client.GET("/api/v1/history", { params: { query: { limit: 10, status: "completed" } } });
check(history.data && history.data.pagination.total >= 3, "history lists the jobs");
console.log(`history: ${history.data.pagination.total} completed jobs, newest ${history.data.jobs[0]?.id}`);

const usage = await client.GET("/api/v1/usage");
check(usage.data && usage.data.credits.used_this_period >= 3, "usage counts the credits");
console.log(`usage: ${usage.data.plan}, ${usage.data.credits.remaining} credits left`);
