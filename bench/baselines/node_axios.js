#!/usr/bin/env node
// Baseline: the Node script people write from the common tutorials, with axios.
//
// One token (a client-credentials token requested once, or the agent's token given in
// GENESYSCLOUD_ACCESS_TOKEN), reused; then a sequential `for ... of` loop with `await`:
// GET the conversation, take the agent participant's messaging communication, POST the text to
// /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages
// (with --agentless: POST /api/v2/conversations/messages/agentless with the customer's
// addresses). No retries, no pacing: an error is logged and the loop goes on.
//
// Usage: node node_axios.js --base-url URL [--agentless] FILE
//   FILE: one message per line, "conversationId<TAB>text".
//   Credentials: GENESYSCLOUD_ACCESS_TOKEN, or GENESYSCLOUD_OAUTHCLIENT_ID and
//   GENESYSCLOUD_OAUTHCLIENT_SECRET.
// Prints one summary line on stderr; exits 1 when any message failed.
'use strict';
const fs = require('fs');
const axios = require('axios');

function parseArgs(argv) {
  const args = { agentless: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--base-url') args.baseUrl = argv[++i];
    else if (argv[i] === '--agentless') args.agentless = true;
    else args.file = argv[i];
  }
  if (!args.baseUrl || !args.file) {
    console.error('usage: node_axios.js --base-url URL [--agentless] FILE');
    process.exit(2);
  }
  return args;
}

async function getToken(baseUrl, clientId, clientSecret) {
  const response = await axios.post(`${baseUrl}/oauth/token`, 'grant_type=client_credentials', {
    auth: { username: clientId, password: clientSecret },
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  return response.data.access_token;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let token = process.env.GENESYSCLOUD_ACCESS_TOKEN;
  if (!token) {
    token = await getToken(args.baseUrl, process.env.GENESYSCLOUD_OAUTHCLIENT_ID,
      process.env.GENESYSCLOUD_OAUTHCLIENT_SECRET);
  }
  const headers = { Authorization: `Bearer ${token}` };

  const rows = fs.readFileSync(args.file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => {
    const tab = l.indexOf('\t');
    return { conversationId: l.slice(0, tab), text: l.slice(tab + 1) };
  });

  let sent = 0;
  let failed = 0;
  for (const { conversationId, text } of rows) {
    try {
      const { data: conversation } = await axios.get(`${args.baseUrl}/api/v2/conversations/${conversationId}`,
        { headers });
      if (args.agentless) {
        const customer = conversation.participants.find((p) => p.purpose === 'customer');
        const message = customer.messages[0];
        await axios.post(`${args.baseUrl}/api/v2/conversations/messages/agentless`, {
          fromAddress: message.toAddress.addressNormalized,
          toAddress: message.fromAddress.addressNormalized,
          toAddressMessengerType: message.type,
          textBody: text,
          useExistingActiveConversation: true,
        }, { headers });
      } else {
        const agent = conversation.participants.filter((p) => p.purpose === 'agent').pop();
        const communicationId = agent.messages[0].id;
        await axios.post(
          `${args.baseUrl}/api/v2/conversations/messages/${conversationId}/communications/${communicationId}/messages`,
          { textBody: text }, { headers });
      }
      sent++;
    } catch (err) {
      failed++;
      const detail = err.response ? `HTTP ${err.response.status} ${JSON.stringify(err.response.data).slice(0, 200)}`
        : err.message;
      console.error(`${conversationId}: ${detail}`);
    }
  }
  console.error(`node_axios: sent ${sent}, failed ${failed}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err.response ? `HTTP ${err.response.status}` : err.message);
  process.exit(1);
});
