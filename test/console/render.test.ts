import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userRef } from '../../src/chat/mrkdwn.ts';
import { findButton, messageToHtml } from '../../src/console/render.ts';
import { actions, button, context, divider, fields, header, section } from '../../src/slack/render/blocks.ts';

const names = { user: (id: string) => (id === 'U0BOB' ? 'bob' : undefined), channel: () => undefined };
const render = (blocks: unknown[], text = 'fallback') => messageToHtml({ text, blocks }, names);

describe('Block Kit as the console shows it', () => {
  it('renders what meshops sends: header, section with text and fields, context, divider, actions', () => {
    const html = render([
      header(':red_circle: Mesh status: down'),
      section('*iks* unreachable'),
      fields(['*pilot*\n1/1', '*telemetry*\n0/1']),
      context(`checked by ${userRef('U0BOB')}`),
      divider(),
      actions(
        button('Approve', 'mesh.approve', 'ap-1', 'primary'),
        button('Reject', 'mesh.reject', 'ap-1', 'danger'),
      ),
    ]);
    assert.equal(
      html,
      [
        '<div class="bk-header">🔴 Mesh status: down</div>',
        '<div class="bk-section"><div class="bk-section-body"><div class="bk-text"><b>iks</b> unreachable</div></div></div>',
        '<div class="bk-section"><div class="bk-section-body"><div class="bk-fields"><div class="bk-field"><b>pilot</b><br>1/1</div><div class="bk-field"><b>telemetry</b><br>0/1</div></div></div></div>',
        '<div class="bk-context"><span class="bk-element">checked by <span class="mention">@bob</span></span></div>',
        '<hr class="bk-divider">',
        '<div class="bk-actions"><button type="button" class="bk-button bk-primary" data-block-id="b5" data-action-id="mesh.approve">Approve</button><button type="button" class="bk-button bk-danger" data-block-id="b5" data-action-id="mesh.reject">Reject</button></div>',
      ].join(''),
    );
  });

  it('never puts a button value in the page: the server looks it up by block and action id', () => {
    const blocks = [
      section('x'),
      { ...actions(button('Approve', 'mesh.approve', 'secret-plan-id')), block_id: 'ab' },
    ];
    assert.ok(!render(blocks).includes('secret-plan-id'));
    assert.deepEqual(findButton(blocks, 'ab', 'mesh.approve'), { value: 'secret-plan-id', text: 'Approve' });
    assert.equal(findButton(blocks, 'b1', 'mesh.approve'), undefined);
    assert.equal(findButton(blocks, 'ab', 'mesh.reject'), undefined);
  });

  it('finds a button that is a section accessory', () => {
    const blocks = [{ ...section('drift on iks'), accessory: button('Repair', 'mesh.repair', 'r-1') }];
    assert.match(
      render(blocks),
      /<div class="bk-accessory"><button[^>]*data-block-id="b0" data-action-id="mesh.repair">Repair<\/button>/,
    );
    assert.deepEqual(findButton(blocks, 'b0', 'mesh.repair'), { value: 'r-1', text: 'Repair' });
  });

  it('carries a confirmation dialog for the page to ask first', () => {
    const html = render([
      actions({
        ...button('Apply', 'mesh.apply', 'x'),
        confirm: {
          title: { type: 'plain_text', text: 'Apply?' },
          text: { type: 'mrkdwn', text: 'This changes *icp*' },
          confirm: { type: 'plain_text', text: 'Apply' },
          deny: { type: 'plain_text', text: 'Stop' },
        },
      }),
    ]);
    const attr = /data-confirm="([^"]*)"/.exec(html)?.[1] ?? '';
    const dialog = JSON.parse(
      attr
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    );
    assert.deepEqual(dialog, {
      title: 'Apply?',
      html: 'This changes <b>icp</b>',
      confirm: 'Apply',
      deny: 'Stop',
    });
  });

  it('shows unknown blocks and elements raw, never dropping them', () => {
    const html = render([
      { type: 'image', image_url: 'https://example.com/x.png', alt_text: 'graph' },
      { type: 'actions', elements: [{ type: 'static_select', action_id: 'pick' }] },
      { type: 'section' },
      { type: 'section', text: { type: 'html', text: '<b>x</b>' } },
      'not even an object',
    ]);
    assert.match(html, /block &quot;image&quot; is not rendered by the console — shown as sent/);
    assert.match(html, /&quot;image_url&quot;: &quot;https:\/\/example.com\/x.png&quot;/);
    assert.match(html, /element &quot;static_select&quot; is not rendered/);
    assert.match(html, /section without text or fields/);
    assert.match(html, /section with a malformed text object/);
    assert.match(html, /&lt;b&gt;x&lt;\/b&gt;/);
    assert.match(html, /not a block/);
    assert.equal((html.match(/class="bk-raw"/g) ?? []).length, 5);
  });

  it('shows the text as mrkdwn when a message has no blocks', () => {
    assert.equal(render([], ':warning: *not* queued'), '<div class="bk-text">⚠️ <b>not</b> queued</div>');
  });
});

describe('files shared into a message', () => {
  it('shows an image inline with its title, and a text-less file share without an empty text line', () => {
    const html = messageToHtml(
      {
        text: '',
        blocks: [],
        files: [{ title: 'p99 <b>', mimetype: 'image/png', url: '/files/F01', alt: 'a "chart"' }],
      },
      names,
    );
    assert.equal(
      html,
      '<figure class="msg-file"><img src="/files/F01" alt="a &quot;chart&quot;"><figcaption>p99 &lt;b&gt;</figcaption></figure>',
    );
  });
});
