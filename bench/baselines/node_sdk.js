#!/usr/bin/env node
// Baseline: the official Genesys Cloud JavaScript SDK (purecloud-platform-client-v2), used the
// way its README and the Developer Center examples show.
//
// ApiClient.instance; loginClientCredentialsGrant(id, secret) once (or setAccessToken with the
// agent's token from GENESYSCLOUD_ACCESS_TOKEN); then a sequential loop with
// ConversationsApi.getConversation and postConversationsMessageCommunicationMessages (with
// --agentless: postConversationsMessagesAgentless). The SDK adds no retries (its ApiClient has
// none); an error is logged and the loop goes on.
//
// Pointing it at gcsim needs no patch: the SDK's own ApiClient.setGateway({host, protocol, port})
// sends both the login (/oauth/token) and the API (/api/v2/...) to that one host, which is how a
// user puts it behind a gateway or proxy. setEnvironment() cannot: it always builds
// https://api.<env> and https://login.<env>.
//
// Usage: node node_sdk.js --base-url URL [--agentless] FILE
//   FILE: one message per line, "conversationId<TAB>text".
//   Credentials: GENESYSCLOUD_ACCESS_TOKEN, or GENESYSCLOUD_OAUTHCLIENT_ID and
//   GENESYSCLOUD_OAUTHCLIENT_SECRET.
// Prints one summary line on stderr; exits 1 when any message failed.
'use strict';
const fs = require('fs');
const platformClient = require('purecloud-platform-client-v2');

function parseArgs(argv) {
  const args = { agentless: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--base-url') args.baseUrl = argv[++i];
    else if (argv[i] === '--agentless') args.agentless = true;
    else args.file = argv[i];
  }
  if (!args.baseUrl || !args.file) {
    console.error('usage: node_sdk.js --base-url URL [--agentless] FILE');
    process.exit(2);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const url = new URL(args.baseUrl);
  const client = platformClient.ApiClient.instance;
  client.setGateway({
    host: url.hostname,
    protocol: url.protocol.replace(':', ''),
    port: url.port ? Number(url.port) : -1,
  });
  if (process.env.GENESYSCLOUD_ACCESS_TOKEN) {
    client.setAccessToken(process.env.GENESYSCLOUD_ACCESS_TOKEN);
  } else {
    await client.loginClientCredentialsGrant(process.env.GENESYSCLOUD_OAUTHCLIENT_ID,
      process.env.GENESYSCLOUD_OAUTHCLIENT_SECRET);
  }
  const conversationsApi = new platformClient.ConversationsApi();

  const rows = fs.readFileSync(args.file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => {
    const tab = l.indexOf('\t');
    return { conversationId: l.slice(0, tab), text: l.slice(tab + 1) };
  });

  let sent = 0;
  let failed = 0;
  for (const { conversationId, text } of rows) {
    try {
      const conversation = await conversationsApi.getConversation(conversationId);
      if (args.agentless) {
        const customer = conversation.participants.find((p) => p.purpose === 'customer');
        const message = customer.messages[0];
        await conversationsApi.postConversationsMessagesAgentless({
          fromAddress: message.toAddress.addressNormalized,
          toAddress: message.fromAddress.addressNormalized,
          toAddressMessengerType: message.type,
          textBody: text,
          useExistingActiveConversation: true,
        });
      } else {
        const agent = conversation.participants.filter((p) => p.purpose === 'agent').pop();
        const communicationId = agent.messages[0].id;
        await conversationsApi.postConversationsMessageCommunicationMessages(conversationId, communicationId,
          { textBody: text });
      }
      sent++;
    } catch (err) {
      failed++;
      const detail = err && err.status ? `HTTP ${err.status} ${JSON.stringify(err.body || '').slice(0, 200)}`
        : (err && err.message) || String(err);
      console.error(`${conversationId}: ${detail}`);
    }
  }
  console.error(`node_sdk: sent ${sent}, failed ${failed}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(err && err.status ? `HTTP ${err.status}` : (err && err.message) || String(err));
  process.exit(1);
});
