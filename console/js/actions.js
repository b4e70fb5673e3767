// A row of action buttons, each confirmed with a reason before it is sent: halt, resume,
// advance, cancel, back out. The buttons stay in place for everyone; a role that may not use one
// sees it disabled with a title naming the roles that may (the server refuses it anyway).
//
// The bar keeps its form while the page refreshes around it: update() changes only which
// buttons are enabled, so a reason being typed is never lost.

import {h, clear} from './dom.js';
import {errorMessage} from './ui.js';

let formCount = 0;

// actions: [{id, label, enabled, title, prompt, reasonMin, reasonMax, run: async (reason) =>
// text or node for the status line}]. onDone is called after any success (to refresh the page).
export function actionBar(actions, {onDone = () => {}} = {}) {
  const buttons = new Map();
  const buttonRow = h('div', {class: 'button-row'});
  const formSlot = h('div', {class: 'confirm-slot'});
  // Focusable from script only: after a confirmed action the form is gone, and focus moves here
  // rather than falling back to the top of the page.
  const status = h('p', {role: 'status', class: 'status', tabindex: '-1'});
  const alertSlot = h('div', {class: 'alert-slot'});
  let open = null; // the action whose form is open
  let current = actions;

  for (const action of actions) {
    const button = h('button', {type: 'button', class: action.danger ? 'danger' : null, on: {click: () => openForm(action.id)}}, action.label);
    buttons.set(action.id, button);
    buttonRow.append(button);
  }

  function showError(message) {
    clear(alertSlot).append(h('p', {role: 'alert', class: 'alert'}, message));
  }

  function openForm(id) {
    const action = current.find((a) => a.id === id);
    if (!action || !action.enabled) return;
    open = id;
    clear(alertSlot);
    status.textContent = '';
    const n = ++formCount;
    const reason = h('textarea', {id: `reason-${n}`, rows: '3', maxlength: String(action.reasonMax || 2000),
      'aria-describedby': `reason-help-${n}`, required: action.reasonMin ? true : null});
    const confirm = h('button', {type: 'submit', class: action.danger ? 'danger' : 'primary'}, 'Confirm');
    const dismiss = h('button', {type: 'button', on: {click: () => closeForm(true)}}, 'Dismiss');
    const help = action.reasonMin
      ? `Required, at least ${action.reasonMin} characters; kept in the change log.`
      : 'Optional; kept in the change log.';
    const form = h('form', {class: 'confirm-form', 'aria-labelledby': `confirm-title-${n}`, novalidate: true,
      on: {submit: (e) => { e.preventDefault(); submit(action, reason, confirm); },
        keydown: (e) => { if (e.key === 'Escape') closeForm(true); }}},
    h('h3', {id: `confirm-title-${n}`}, action.prompt || `${action.label}?`),
    action.explain ? h('p', {}, action.explain) : null,
    h('label', {for: `reason-${n}`}, 'Reason'),
    reason,
    h('p', {id: `reason-help-${n}`, class: 'help'}, help),
    h('div', {class: 'button-row'}, confirm, dismiss));
    clear(formSlot).append(form);
    reason.focus();
  }

  function closeForm(returnFocus) {
    const id = open;
    open = null;
    clear(formSlot);
    const button = buttons.get(id);
    if (returnFocus && button && !button.disabled) button.focus();
  }

  async function submit(action, reasonInput, confirm) {
    const reason = reasonInput.value.trim();
    if (action.reasonMin && reason.length < action.reasonMin) {
      showError(`Reason: at least ${action.reasonMin} characters are needed (${reason.length} given).`);
      reasonInput.focus();
      return;
    }
    confirm.disabled = true;
    clear(alertSlot);
    status.textContent = `${action.label}: sending…`;
    try {
      const answer = await action.run(reason);
      closeForm(false);
      clear(status).append(answer);
      status.focus();
      onDone();
    } catch (err) {
      status.textContent = '';
      showError(`${action.label} refused: ${errorMessage(err)}`);
      confirm.disabled = false;
    }
  }

  // New enabled/title states (after a refresh); an open form whose action is no longer
  // possible stays open: the server decides, and the user sees its answer.
  function update(next) {
    current = next;
    for (const action of next) {
      const button = buttons.get(action.id);
      if (!button) continue;
      button.disabled = !action.enabled;
      if (action.title) button.title = action.title;
      else button.removeAttribute('title');
    }
  }
  update(actions);

  return {element: h('div', {class: 'actions'}, buttonRow, formSlot, alertSlot, status), update, isOpen: () => open !== null};
}
