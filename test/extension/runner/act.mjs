// Workbench actions asked for by a test in the extension host (the protocol: act-protocol.ts).
// The test logs `__VSCT_ACT__ {json}`; run-ext-tests.mjs hands the line to `actor.handle`, which
// performs the requests one at a time with Playwright and writes each reply to the file it names.
import { renameSync, writeFileSync } from 'node:fs';

export const ACT = /^__VSCT_ACT__ (\{.*\})$/s;
const DEFAULT_TIMEOUT_MS = 10_000;

/** @param {import('playwright-core').Page} page */
export function createActor(page) {
  let queue = Promise.resolve();
  return {
    /** Takes the line if it is an action request: true when it was one (queued, answered later). */
    handle(text) {
      const m = ACT.exec(text);
      if (!m) return false;
      let req;
      try {
        req = JSON.parse(m[1]);
      } catch (e) {
        console.error(`[runner] unreadable action request: ${e.message}: ${m[1].slice(0, 200)}`);
        return true;
      }
      queue = queue.then(() => answer(page, req));
      return true;
    },
  };
}

async function answer(page, req) {
  let reply;
  try {
    const op = OPS[req.op];
    if (!op) throw new Error(`unknown action "${req.op}"`);
    const result = await op(page, req, req.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    reply = { id: req.id, ok: true, result: result ?? null };
  } catch (e) {
    reply = { id: req.id, ok: false, error: String(e && e.message || e).split('\n=====')[0] };
  }
  if (typeof req.reply !== 'string' || !req.reply.endsWith('.json')) {
    console.error(`[runner] action ${req.id} names no .json reply file`);
    return;
  }
  writeFileSync(req.reply + '.tmp', JSON.stringify(reply));
  renameSync(req.reply + '.tmp', req.reply);
}

/** A TextPattern (string: substring; { regex, flags }) as Playwright takes it. */
function pattern(p) {
  return typeof p === 'string' ? p : new RegExp(p.regex, p.flags ?? '');
}

function exactly(text) {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/** CSS attribute value, quoted. */
function quoted(value) {
  return JSON.stringify(value);
}

/** The one element a Target names (Playwright's strict mode refuses several, unless `nth`). */
function locate(page, t) {
  const scope = t.within ? page.locator(t.within) : page;
  let loc = 'css' in t ? scope.locator(t.css) : scope.getByRole(t.role, t.name === undefined ? {} : { name: pattern(t.name), exact: t.exact });
  if (t.nth !== undefined) loc = loc.nth(t.nth);
  return loc;
}

/** The pane of a view (a section of a side bar or panel) by its title. */
function viewPane(page, view) {
  return page.locator('.pane').filter({ has: page.locator('.pane-header .title', { hasText: exactly(view) }) });
}

const OPS = {
  async click(page, { target }, timeout) {
    await locate(page, target).click({ timeout });
  },

  async clickTreeRow(page, { label, view }, timeout) {
    const scope = view ? viewPane(page, view) : page;
    const row = scope.locator('.monaco-list-row[role="treeitem"]').filter({ has: page.locator('.label-name', { hasText: exactly(label) }) });
    await row.click({ timeout });
  },

  async clickViewTitleAction(page, { view, action }, timeout) {
    // A view with sections shows its actions in its pane header, on hover; a container holding a
    // single view shows them in the container's title ("EXTISM: LIVE PLUGINS").
    const byTitle = `.action-label[aria-label^=${quoted(action)}]`;
    const header = viewPane(page, view).locator('.pane-header');
    if ((await header.count()) === 1 && (await header.isVisible())) {
      if (await header.locator(byTitle).count()) {
        await header.hover({ timeout });
        await header.locator(byTitle).click({ timeout });
        return;
      }
    }
    const title = page.locator('.composite.title').filter({ has: page.locator('.title-label', { hasText: new RegExp(view.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i') }) });
    await title.locator(`.title-actions ${byTitle}`).click({ timeout });
  },

  async clickNotificationButton(page, { message, button }, timeout) {
    const item = page.locator('.notification-toast-container .notification-list-item, .notifications-center.visible .notification-list-item')
      .filter({ has: page.locator('.notification-list-item-message', { hasText: pattern(message) }) });
    await item.first().locator('.notification-list-item-buttons-container .monaco-button').filter({ hasText: exactly(button) }).click({ timeout });
  },

  async type(page, { text }) {
    await page.keyboard.type(text);
  },

  async press(page, { key }) {
    await page.keyboard.press(key);
  },

  notifications: (page) => page.evaluate(() => {
    const shown = (e) => !!e && e.getClientRects().length > 0;
    const text = (e) => (e ? e.textContent.trim() : undefined);
    const items = [...document.querySelectorAll('.notification-toast-container .notification-list-item, .notifications-center .notification-list-item')];
    return items.filter(shown).map((e) => {
      const icon = e.querySelector('.notification-list-item-icon');
      const severity = ['error', 'warning', 'info'].find((s) => icon?.classList.contains(`codicon-${s}`)) ?? 'unknown';
      const source = text(e.querySelector('.notification-list-item-source'));
      return {
        message: text(e.querySelector('.notification-list-item-message')) ?? '',
        severity,
        ...(source ? { source } : {}),
        buttons: [...e.querySelectorAll('.notification-list-item-buttons-container .monaco-button')].map((b) => b.textContent.trim()),
        inCenter: !!e.closest('.notifications-center'),
      };
    });
  }),

  quickPick: (page) => page.evaluate(() => {
    const widget = [...document.querySelectorAll('.quick-input-widget')].find((e) => e.getClientRects().length > 0 && getComputedStyle(e).display !== 'none');
    if (!widget) return null;
    const text = (e) => (e && e.textContent.trim()) || undefined;
    const shown = (e) => !!e && e.getClientRects().length > 0;
    const input = widget.querySelector('.quick-input-box input');
    const rows = [...widget.querySelectorAll('.quick-input-list .monaco-list-row')].filter(shown);
    const items = rows.flatMap((row) => {
      const label = text(row.querySelector('.quick-input-list-rows .label-name')) ?? text(row.querySelector('.label-name'));
      if (!label) return []; // a separator
      const description = text(row.querySelector('.quick-input-list-rows .label-description')) ?? text(row.querySelector('.label-description'));
      const detail = text(row.querySelector('.quick-input-list-label-meta .label-name'));
      return [{ label, ...(description ? { description } : {}), ...(detail ? { detail } : {}), focused: row.classList.contains('focused') }];
    });
    const title = text(widget.querySelector('.quick-input-title'));
    const message = shown(widget.querySelector('.quick-input-message')) ? text(widget.querySelector('.quick-input-message')) : undefined;
    return {
      ...(title ? { title } : {}),
      ...(input?.placeholder ? { placeholder: input.placeholder } : {}),
      value: input?.value ?? '',
      items,
      ...(message ? { message } : {}),
    };
  }),

  dialogs: (page) => page.evaluate(() => {
    const text = (e) => (e && e.textContent.trim()) || undefined;
    return [...document.querySelectorAll('.monaco-dialog-box')].filter((e) => e.getClientRects().length > 0).map((box) => {
      const detail = text(box.querySelector('.dialog-message-detail'));
      return {
        message: text(box.querySelector('.dialog-message-text')) ?? '',
        ...(detail ? { detail } : {}),
        buttons: [...box.querySelectorAll('.dialog-buttons .monaco-button')].map((b) => b.textContent.trim()),
      };
    });
  }),

  html: (page, { css }) => page.locator(css).evaluateAll((els) => els.map((e) => e.outerHTML)),

  texts: (page, { css }) => page.locator(css).evaluateAll((els) => els.filter((e) => e.getClientRects().length > 0).map((e) => e.innerText)),

  async webviewTexts(page, { css }) {
    const found = [];
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      const read = await frame
        .evaluate((selector) => [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length > 0)
          .map((e) => ({ text: e.textContent ?? '', cut: e.scrollWidth > e.clientWidth })), css)
        .catch(() => []); // a frame that went away meanwhile
      found.push(...read);
    }
    return found;
  },
};
