// The streams page: lists the routes whose answer is text/event-stream in /openapi.json and follows one with
// EventSource. Event data is shown as text, never as HTML.
'use strict';
(async () => {
  const select = document.getElementById('route');
  const url = document.getElementById('url');
  const state = document.getElementById('state');
  const list = document.getElementById('events');
  const stop = document.getElementById('stop');
  const KEPT = 200;
  let source = null;

  const document_ = await (await fetch('/openapi.json')).json();
  for (const [path, item] of Object.entries(document_.paths || {})) {
    const content = item.get && item.get.responses && item.get.responses['200'] && item.get.responses['200'].content;
    if (content && content['text/event-stream']) {
      const option = document.createElement('option');
      option.value = path;
      option.textContent = 'GET ' + path + ' (' + item.get.operationId + ')';
      select.append(option);
    }
  }
  if (select.options.length === 0) {
    state.textContent = 'No streaming route is served now.';
  }
  const pick = () => { url.value = select.value; };
  select.addEventListener('change', pick);
  pick();

  function show(kind, text, id) {
    const entry = document.createElement('li');
    entry.className = kind;
    entry.textContent = (id ? '[' + id + '] ' : '') + kind + ': ' + text;
    list.prepend(entry);
    while (list.children.length > KEPT) {
      list.lastElementChild.remove();
    }
  }

  document.getElementById('follow').addEventListener('submit', event => {
    event.preventDefault();
    if (source) {
      source.close();
    }
    if (!url.value.startsWith('/') || url.value.startsWith('//')) {
      state.textContent = 'The path must start with a single /';
      return;
    }
    const followed = url.value;
    source = new EventSource(followed);
    state.textContent = 'Connecting to ' + followed + '...';
    source.onopen = () => { state.textContent = 'Following ' + followed; };
    source.onmessage = message => show('message', message.data, message.lastEventId);
    // an error event from the gateway has data (the stream's status); one from the browser is a lost connection
    source.addEventListener('error', message => {
      if (message.data) {
        show('error', message.data);
      } else {
        state.textContent = 'Connection lost; the browser reconnects from the last event';
      }
    });
    source.addEventListener('reconnect', message => show('reconnect', message.data));
    stop.disabled = false;
  });
  stop.addEventListener('click', () => {
    if (source) {
      source.close();
    }
    source = null;
    stop.disabled = true;
    state.textContent = 'Stopped.';
  });
})();
