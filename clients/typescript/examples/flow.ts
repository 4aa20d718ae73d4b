/**
 * A web-form case from submission to solved, through the typed client only.
 *
 *   OMNICASE_URL=http://127.0.0.1:8080 OMNICASE_EMAIL=admin@… OMNICASE_PASSWORD=… node dist/examples/flow.js
 *
 * As an admin: log in, create a mailbox (replies to web cases are mailed from it) and a
 * form. As the customer's browser (no token): post a submission to `/public/forms/{id}/
 * submissions`. As the admin again: wait for the submission's case, read it, reply in
 * public, solve it. Prints one JSON line with what it made; on any failure prints why to
 * stderr and exits 1.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import { createOmnicaseClient, logIn, OmnicaseError, type OmnicaseClient, type Schemas } from "../src/index.js";

const CASE_WITHIN_MS = 90_000;
const POLL_MS = 500;
// Routing may assign the case between our read and our change; each time we read it again.
const SOLVE_ATTEMPTS = 5;

interface Settings {
  url: string;
  email: string;
  password: string;
  run: string;
}

export interface FlowResult {
  run: string;
  mailbox: Schemas["Mailbox"];
  form: Schemas["Form"];
  submission_id: string;
  customer_email: string;
  case: Schemas["Case"];
  reply: Schemas["Message"];
}

function settings(): Settings {
  const [url, email, password] =
    process.argv.length > 2
      ? process.argv.slice(2)
      : [process.env.OMNICASE_URL, process.env.OMNICASE_EMAIL, process.env.OMNICASE_PASSWORD];
  if (!url || !email || !password) {
    throw new Error("set OMNICASE_URL, OMNICASE_EMAIL and OMNICASE_PASSWORD, or pass URL EMAIL PASSWORD as arguments");
  }
  // Names of their own (mailbox, brand, tag), so runs against one suite never meet.
  return { url, email, password, run: randomUUID().slice(0, 8) };
}

export async function flow({ url, email, password, run }: Settings): Promise<FlowResult> {
  const admin = createOmnicaseClient(url);
  await logIn(admin, email, password);

  // Mailboxes and forms name a brand case-core has: the run's own, made first.
  const brand = await admin.POST("/api/v1/brands", { body: { name: `Flow ${run}`, slug: `flow-${run}` } });
  if (brand.data === undefined) throw new OmnicaseError("create the brand", brand.response, brand.error);

  const mailbox = await admin.POST("/api/v1/mailboxes", {
    body: { address: `support-${run}@flow.example`, display_name: "Flow Support", brand: `flow-${run}` },
  });
  if (mailbox.data === undefined) throw new OmnicaseError("create the mailbox", mailbox.response, mailbox.error);

  const form = await admin.POST("/api/v1/forms", {
    body: {
      name: `Flow ${run}`,
      title: { en: "Contact support" },
      fields: [
        { key: "name", required: true, labels: { en: "Your name" } },
        { key: "email", required: true, labels: { en: "Email" } },
        { key: "subject", required: true, labels: { en: "Subject" } },
        { key: "description", required: true, labels: { en: "How can we help?" } },
      ],
      defaults: { brand: `flow-${run}`, tags: [`flow-${run}`] },
      // A script posts as fast as it likes: no minimum fill time.
      spam: { min_fill_seconds: 0 },
      thank_you_url: "https://flow.example/thanks",
    },
  });
  if (form.data === undefined) throw new OmnicaseError("create the form", form.response, form.error);

  // The customer's browser: no token, a plain form post, JSON asked for instead of the redirect.
  const customer = createOmnicaseClient(url);
  const customerEmail = `customer-${run}@flow.example`;
  const subject = `Parcel ${run} never arrived`;
  const submitted = await customer.POST("/public/forms/{form_id}/submissions", {
    params: { path: { form_id: form.data.id } },
    body: { name: "Casey Customer", email: customerEmail, subject, description: "Ordered two weeks ago." },
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
  });
  if (submitted.data === undefined) {
    throw new OmnicaseError("submit the form", submitted.response, submitted.error);
  }
  const submissionId = submitted.data.submission_id;

  const caseId = await caseOf(admin, form.data.id, submissionId);

  const read = await admin.GET("/api/v1/cases/{case_id}", { params: { path: { case_id: caseId } } });
  if (read.data === undefined) throw new OmnicaseError("read the case", read.response, read.error);
  expect(read.data.subject === subject, `the case's subject is ${JSON.stringify(read.data.subject)}`);
  expect(read.data.channel === "web", `the case came from the ${read.data.channel} channel, not web`);

  const reply = await admin.POST("/api/v1/cases/{case_id}/messages", {
    params: { path: { case_id: caseId } },
    body: { text: `It is on its way again (${run}).`, public: true },
  });
  if (reply.data === undefined) throw new OmnicaseError("reply", reply.response, reply.error);

  const solved = await solve(admin, caseId);
  return {
    run,
    mailbox: mailbox.data,
    form: form.data,
    submission_id: submissionId,
    customer_email: customerEmail,
    case: solved,
    reply: reply.data,
  };
}

/** The case the submission became, once case-core made it and intake-web heard so. */
async function caseOf(admin: OmnicaseClient, formId: string, submissionId: string): Promise<string> {
  const deadline = Date.now() + CASE_WITHIN_MS;
  for (;;) {
    const page = await admin.GET("/api/v1/forms/{form_id}/submissions", {
      params: { path: { form_id: formId } },
    });
    if (page.data === undefined) throw new OmnicaseError("list the form's submissions", page.response, page.error);
    const submission = page.data.items.find((item) => item.id === submissionId);
    if (submission?.case_id) return submission.case_id;
    if (Date.now() > deadline) {
      throw new Error(
        `submission ${submissionId} became no case within ${CASE_WITHIN_MS / 1000} s ` +
          `(status ${submission?.status ?? "not listed"})`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Solves the case with the ETag it was last read with; read again if someone changed it meanwhile. */
async function solve(admin: OmnicaseClient, caseId: string): Promise<Schemas["Case"]> {
  for (let attempt = 1; ; attempt++) {
    const read = await admin.GET("/api/v1/cases/{case_id}", { params: { path: { case_id: caseId } } });
    if (read.data === undefined) throw new OmnicaseError("read the case", read.response, read.error);
    const etag = read.response.headers.get("ETag");
    if (etag === null) throw new Error("the case was read without an ETag to change it with");
    const changed = await admin.PATCH("/api/v1/cases/{case_id}", {
      params: { path: { case_id: caseId }, header: { "if-match": etag } },
      body: { status: "solved" },
    });
    if (changed.data !== undefined) return changed.data;
    if (changed.response.status !== 412 || attempt === SOLVE_ATTEMPTS) {
      throw new OmnicaseError("solve the case", changed.response, changed.error);
    }
  }
}

function expect(condition: boolean, failure: string): asserts condition {
  if (!condition) throw new Error(failure);
}

Promise.resolve()
  .then(() => flow(settings()))
  .then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`flow failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
