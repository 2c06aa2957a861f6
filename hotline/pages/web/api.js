// The JSON API with the signed-in agent's bearer token. The token lives in sessionStorage:
// it stays with this browser tab and is gone when the tab closes.
const TOKEN_KEY = "hotline.token";
const AGENT_KEY = "hotline.agent";

export class ApiError extends Error {
  constructor(status, body) {
    super(`${status} ${body && body.error ? body.error : "error"}`);
    this.status = status;
    this.body = body;
  }

  // A route the server does not have yet (another part of the work): 404 from the router
  // itself, or 405 for a method it does not take.
  get notAvailable() {
    return this.status === 405 || (this.status === 404 && this.body?.detail === "Not Found");
  }
}

export function currentSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const agent = sessionStorage.getItem(AGENT_KEY);
  return token && agent ? { token, agent: JSON.parse(agent) } : null;
}

export function saveSession(token, agent) {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(AGENT_KEY, JSON.stringify(agent));
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(AGENT_KEY);
}

export function goToLogin() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
}

// The session of this tab, or off to the login page (nothing is shown without one).
export function requireSession() {
  const found = currentSession();
  if (!found) goToLogin();
  return found;
}

function headers(extra = {}) {
  const found = currentSession();
  return found ? { ...extra, Authorization: `Bearer ${found.token}` } : extra;
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 401 && currentSession()) {
    clearSession();
    goToLogin();
  }
  return new ApiError(response.status, body);
}

export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

export async function signOut() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } catch {
    // Signed out here whatever the server says: the token is dropped with the session.
  }
  clearSession();
  location.assign("/login");
}

// One Server-Sent Events block ("event: x\ndata: ...") as {event, data}, or null for a comment.
function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

// Reads an event stream with fetch(), which, unlike EventSource, can send the bearer token.
// Calls handlers[event](data) for each event, until the server closes the stream.
export async function readEvents(path, handlers, signal) {
  const response = await fetch(path, { headers: headers({ Accept: "text/event-stream" }), signal });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const parsed = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (parsed && handlers[parsed.event]) handlers[parsed.event](parsed.data);
      end = buffer.indexOf("\n\n");
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Keeps a stream open: the server closes it now and then, and it is opened again.
export async function followEvents(path, handlers, { onState = () => {}, retryMs = 1000 } = {}) {
  for (;;) {
    try {
      onState("open");
      await readEvents(path, handlers);
      onState("reconnecting");
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        onState("closed");
        return;
      }
      onState("reconnecting");
    }
    await sleep(retryMs);
  }
}
