// The reports dashboard: signs in with the gateway's password grant (the access token is kept in
// this tab's sessionStorage only), then reads /api/v1/reports with it as a bearer token.
"use strict";

const TOKEN = "omnicase.reports.token";
const CHARTS = [
  ["created", "Cases created per interval"],
  ["solved", "Cases solved per interval"],
  ["backlog", "Open cases at the end of each interval"],
  ["first_reply_time_median", "Median first reply time, hours"],
  ["resolution_time_median", "Median full resolution time, hours"],
  ["sla_attainment", "SLA attainment per policy metric, percent"],
  ["one_touch_rate", "One-touch resolution rate, percent"],
  ["csat_good_rate", "Customer satisfaction, percent good of rated"],
  ["swarms_started", "Swarms started per interval"],
  ["swarm_to_solve_time_median", "Median time from a case's first swarm to its solve, hours"],
];
const NUMBERS = [
  ["created", "Created", "sum"],
  ["solved", "Solved", "sum"],
  ["reopened", "Reopened", "sum"],
  ["backlog", "Backlog now", "last"],
  ["swarms_started", "Swarms", "sum"],
];

const $ = (id) => document.getElementById(id);
const objectUrls = [];

function token() { return sessionStorage.getItem(TOKEN); }

function show(signedIn) {
  $("sign-in").hidden = signedIn;
  $("dashboard").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = new URLSearchParams({ grant_type: "password", username: form.get("username"), password: form.get("password") });
  const answer = await fetch("/api/v1/auth/token", { method: "POST", body });
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    $("sign-in-error").textContent = problem.detail || "Signing in failed.";
    return;
  }
  sessionStorage.setItem(TOKEN, (await answer.json()).access_token);
  $("sign-in-error").textContent = "";
  show(true);
  await load();
}

function signOut() {
  sessionStorage.removeItem(TOKEN);
  show(false);
}

function query() {
  const form = new FormData($("filters"));
  const params = new URLSearchParams();
  params.set("since", `${form.get("since")}T00:00:00Z`);
  params.set("until", `${form.get("until")}T00:00:00Z`);
  for (const name of ["interval", "group_by", "channel", "tz"]) {
    if (form.get(name)) params.set(name, form.get(name));
  }
  return params;
}

async function get(path, params) {
  const answer = await fetch(`${path}?${params}`, { headers: { Authorization: `Bearer ${token()}` } });
  if (answer.status === 401) { signOut(); throw new Error("Your session ended; sign in again."); }
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    throw new Error(`${problem.detail || answer.statusText}${fields ? ` (${fields})` : ""}`);
  }
  return answer;
}

async function load(event) {
  if (event) event.preventDefault();
  $("report-error").textContent = "";
  const params = query();
  $("export").href = "#";
  try {
    const totals = new URLSearchParams(params);
    totals.delete("group_by");
    totals.set("metrics", NUMBERS.map(([m]) => m).join(","));
    const report = await (await get("/api/v1/reports/metrics", totals)).json();
    const list = $("numbers");
    list.replaceChildren();
    for (const [metric, label, how] of NUMBERS) {
      const series = report.series.filter((s) => s.metric === metric);
      const values = series.flatMap((s) => s.values).filter((v) => v !== null);
      const value = how === "sum" ? values.reduce((a, b) => a + b, 0) : (series.length ? series[0].values.at(-1) ?? 0 : 0);
      const item = document.createElement("li");
      item.dataset.metric = metric;
      const strong = document.createElement("strong");
      strong.textContent = String(Math.round(value));
      item.append(strong, label);
      list.append(item);
    }
    while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
    const charts = $("charts");
    charts.replaceChildren();
    await Promise.all(CHARTS.map(async ([metric, caption]) => {
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.alt = `${caption} (chart)`;
      image.dataset.metric = metric;
      const label = document.createElement("figcaption");
      label.textContent = caption;
      figure.append(image, label);
      charts.append(figure);
      const svg = await (await get(`/api/v1/reports/charts/${metric}.svg`, params)).blob();
      const url = URL.createObjectURL(svg);
      objectUrls.push(url);
      await new Promise((resolve) => { image.onload = resolve; image.onerror = resolve; image.src = url; });
    }));
    document.body.dataset.loaded = "true";
  } catch (error) {
    $("report-error").textContent = error.message;
  }
}

async function download(event) {
  event.preventDefault();
  try {
    const answer = await get("/api/v1/reports/export.csv", query());
    const url = URL.createObjectURL(await answer.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = "omnicase-cases.csv";
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    $("report-error").textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const today = new Date();
  const until = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1));
  const since = new Date(until.getTime() - 30 * 86400000);
  const params = new URLSearchParams(location.search);
  $("until").value = params.get("until") || until.toISOString().slice(0, 10);
  $("since").value = params.get("since") || since.toISOString().slice(0, 10);
  $("tz").value = params.get("tz") || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  for (const name of ["interval", "group_by", "channel"]) if (params.get(name)) $(name).value = params.get(name);
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("filters").addEventListener("submit", load);
  $("export").addEventListener("click", download);
  show(Boolean(token()));
  if (token()) load();
});
