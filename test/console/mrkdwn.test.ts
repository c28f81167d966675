import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, mrkdwnToHtml, plainTextToHtml } from '../../src/console/mrkdwn.ts';

const names = {
  user: (id: string) => ({ U0ALICE: 'alice', U0BOB: 'bob' })[id],
  channel: (id: string) => ({ C0MESHOPS: 'mesh-ops' })[id],
};
const md = (text: string) => mrkdwnToHtml(text, names);

describe('mrkdwn as the console shows it', () => {
  it('formats bold, italic and strike at word boundaries only', () => {
    assert.equal(md('*healthy* and _slow_ and ~gone~'), '<b>healthy</b> and <i>slow</i> and <s>gone</s>');
    assert.equal(md('istio_pilot_v2 and *.svc.cluster.local'), 'istio_pilot_v2 and *.svc.cluster.local');
    assert.equal(md('2*3*4'), '2*3*4');
    assert.equal(md('* not bold *'), '* not bold *');
    assert.equal(
      md('_set the MTU (e.g. Calico veth_mtu) on both_'),
      '<i>set the MTU (e.g. Calico veth_mtu) on both</i>',
    );
    assert.equal(md('*the istio_pilot_v2 pod*'), '<b>the istio_pilot_v2 pod</b>');
  });

  it('keeps code and pre literal: no formatting, mentions or emoji inside', () => {
    assert.equal(md('run `kubectl get *pods*` now'), 'run <code>kubectl get *pods*</code> now');
    assert.equal(
      md('```\n--- live\n+++ *preset* :x: <@U0ALICE>\n```'),
      '<pre>--- live\n+++ *preset* :x: &lt;@U0ALICE&gt;</pre>',
    );
  });

  it('shows mentions by name, with the ID when the name is unknown', () => {
    assert.equal(
      md('requested by <@U0ALICE>, approved by <@U0BOB|robert>, seen by <@U0NOBODY>'),
      'requested by <span class="mention">@alice</span>, approved by <span class="mention">@bob</span>, seen by <span class="mention">@U0NOBODY</span>',
    );
    assert.equal(
      md('<#C0MESHOPS> <!here> <!subteam^S0SRE|@sre>'),
      [
        '<span class="mention">#mesh-ops</span>',
        '<span class="mention">@here</span>',
        '<span class="mention">@sre</span>',
      ].join(' '),
    );
  });

  it('turns shortcodes Slack knows into emoji and leaves unknown ones as typed', () => {
    assert.equal(md(':large_green_circle: :red_circle: :hourglass_flowing_sand:'), '🟢 🔴 ⏳');
    assert.equal(md(':no_such_emoji_here: stays'), ':no_such_emoji_here: stays');
    assert.equal(plainTextToHtml(':warning: careful'), '⚠️ careful');
    assert.equal(plainTextToHtml(':warning: literal', false), ':warning: literal');
  });

  it('renders safe links and shows anything else in angle brackets as text', () => {
    assert.equal(
      md('<https://istio.io/docs|Istio docs>'),
      '<a href="https://istio.io/docs" target="_blank" rel="noopener noreferrer">Istio docs</a>',
    );
    assert.equal(md('<javascript:alert(1)|click>'), '&lt;javascript:alert(1)|click&gt;');
  });

  it('escapes HTML in the text, decoding Slack’s own &lt; &gt; &amp; first', () => {
    assert.equal(md('<img src=x onerror=alert(1)>'), '&lt;img src=x onerror=alert(1)&gt;');
    assert.equal(md('a &lt;b&gt; &amp; "c"'), 'a &lt;b&gt; &amp; &quot;c&quot;');
    assert.equal(escapeHtml(`<'">&`), '&lt;&#39;&quot;&gt;&amp;');
  });

  it('keeps lines and quotes', () => {
    assert.equal(md('one\ntwo'), 'one<br>two');
    assert.equal(md('> quoted\n> still\nplain'), '<blockquote>quoted<br>still</blockquote><br>plain');
  });

  it('formats across mentions and code as Slack does', () => {
    assert.equal(
      md('*approved by <@U0BOB>* `ok`'),
      '<b>approved by <span class="mention">@bob</span></b> <code>ok</code>',
    );
  });
});
