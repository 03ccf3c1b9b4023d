// Same-origin requests from the staff pages: the session cookie, and for anything that
// changes something the CSRF token Django expects. Shared by the dashboard's modules and
// the apps' extension modules (canned messages, transcript, Reference Analytics, tickets).

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input && input.value) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// fetch(), same-origin, with the CSRF header on every method but GET and HEAD. `json`
// (any value) is sent as a JSON body; `body` (e.g. FormData) as it is.
export function request(url, { method = "GET", json, body, headers = {}, ...options } = {}) {
  const all = { ...headers };
  if (!["GET", "HEAD"].includes(method.toUpperCase())) all["X-CSRFToken"] = csrfToken();
  if (json !== undefined) {
    all["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  return fetch(url, { ...options, method, headers: all, body, credentials: "same-origin" });
}

// request() whose answer is JSON: resolves to {ok, status, data}; `data` is {} when the
// body is not JSON. Rejects only when the network fails.
export async function requestJSON(url, { headers = {}, ...options } = {}) {
  const response = await request(url, { ...options, headers: { Accept: "application/json", ...headers } });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, data };
}
