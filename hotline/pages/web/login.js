// The sign-in form: POST /api/auth/login, keep the token for this tab, then go to the page
// asked for (only our own pages) or to the one that fits the agent's role.
import { ApiError, api, clearSession, saveSession } from "./api.js";
import { byId } from "./dom.js";
import { text } from "./labels.js";

const PAGES = ["/supervisor", "/agent"];

function destination(agent) {
  const asked = new URLSearchParams(location.search).get("next");
  if (PAGES.includes(asked)) return asked;
  return agent.role === "agent" ? "/agent" : "/supervisor";
}

function explain(error) {
  if (!(error instanceof ApiError)) return text(["无法连接服务器", "The server cannot be reached"]);
  if (error.status === 401) return text(["登录名或密码错误", "Wrong login or password"]);
  if (error.status === 429) return text(["失败次数过多，请稍后再试", "Too many failed sign-ins; try later"]);
  return text(["登录失败", "Sign-in failed"]) + ` (${error.status})`;
}

async function signIn(event) {
  event.preventDefault();
  const message = byId("login-message");
  const button = byId("sign-in");
  message.textContent = "";
  button.disabled = true;
  clearSession();
  try {
    const result = await api("/api/auth/login", {
      method: "POST",
      body: { login: byId("login").value, password: byId("password").value },
    });
    saveSession(result.token, result.agent);
    location.assign(destination(result.agent));
  } catch (error) {
    message.textContent = explain(error);
    button.disabled = false;
  }
}

byId("login-form").addEventListener("submit", signIn);
