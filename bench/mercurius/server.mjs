// The benchmark's second peer: Mercurius on Fastify, with graphql-jit (queries compiled
// from their first use) and Mercurius loaders (one batched call per field and level),
// serving Q1 and Q2 (the same shape as ContactGraph's schema) over the same database with
// the Node MongoDB driver: activities and orders with one $topN aggregation per level,
// messages with one $in find. Run: node server.mjs PORT MONGODB_URI DATABASE
import Fastify from "fastify";
import mercurius from "mercurius";
import { MongoClient } from "mongodb";

const [port, uri, database] = process.argv.slice(2);
const ACCOUNT = "bench";
const client = new MongoClient(uri);
const db = client.db(database);

const schema = `
  scalar DateTime
  type Message { id: String! name: String }
  type LineItem { productID: String sku: String qty: Int itemPrice: Float }
  type Cart { items: [LineItem!]! }
  type Activity { action: String! ats: DateTime! mcID: String message: Message }
  type ActivityEdge { node: Activity! }
  type ActivityConnection { edges: [ActivityEdge!]! }
  type Order { orderID: String! purchaseDate: DateTime totalAmount: Float items: [LineItem!]! }
  type OrderEdge { node: Order! }
  type OrderConnection { edges: [OrderEdge!]! }
  type Contact {
    cID: String! email: String cart: Cart
    activities(first: Int = 25): ActivityConnection!
    orders(first: Int = 25): OrderConnection!
  }
  type ContactEdge { node: Contact! }
  type ContactConnection { edges: [ContactEdge!]! }
  type Query { contact(ref: String!): Contact  contacts(first: Int = 25): ContactConnection! }
`;

const ACTIVITY_FIELDS = { _id: "$_id", action: "$action", ats: "$ats", mcID: "$mcID", messageId: "$messageId" };
const ORDER_FIELDS = { _id: "$_id", orderID: "$orderID", purchaseDate: "$purchaseDate", totalAmount: "$totalAmount", items: "$items" };

// One $topN aggregation for every parent of a level that asks with the same `first`.
async function topN(collection, sortBy, output, queries) {
  const byFirst = new Map();
  for (const q of queries) {
    const first = q.params.first ?? 25;
    if (!byFirst.has(first)) byFirst.set(first, []);
    byFirst.get(first).push(q.obj._id);
  }
  const pages = new Map();
  for (const [n, cids] of byFirst) {
    const groups = await db.collection(collection).aggregate([
      { $match: { accountId: ACCOUNT, cID: { $in: cids } } },
      { $group: { _id: "$cID", items: { $topN: { n, sortBy, output } } } },
    ]).toArray();
    for (const g of groups) pages.set(`${n}:${g._id.toHexString()}`, g.items);
  }
  return queries.map((q) => ({
    edges: (pages.get(`${q.params.first ?? 25}:${q.obj._id.toHexString()}`) ?? []).map((node) => ({ node })),
  }));
}

const item = (i) => ({ productID: i.productID, sku: i.sku, qty: i.qty, itemPrice: i.itemPrice });
const resolvers = {
  DateTime: { serialize: (d) => (d instanceof Date ? d.toISOString() : d) },
  Query: {
    contact: (_, { ref }) => db.collection("contacts").findOne({ accountId: ACCOUNT, "channels.email.address": ref }),
    contacts: async (_, { first }) => ({
      edges: (await db.collection("contacts").find({ accountId: ACCOUNT }).sort({ _id: 1 }).limit(first).toArray())
        .map((node) => ({ node })),
    }),
  },
  Contact: {
    cID: (c) => c._id.toHexString(),
    email: (c) => c.channels?.email?.address ?? null,
    cart: (c) => (c.cart ? { items: (c.cart.items ?? []).map(item) } : null),
  },
  Activity: { mcID: (a) => a.mcID ?? null },
  Order: { items: (o) => (o.items ?? []).map(item) },
};

const loaders = {
  Contact: {
    activities: (queries) => topN("activities", { ats: -1, _id: -1 }, ACTIVITY_FIELDS, queries),
    orders: (queries) => topN("orders", { purchaseDate: -1, _id: -1 }, ORDER_FIELDS, queries),
  },
  Activity: {
    message: async (queries) => {
      const ids = [...new Set(queries.filter((q) => q.obj.messageId).map((q) => q.obj.messageId.toHexString()))];
      const found = ids.length
        ? await db.collection("messages").find({ accountId: ACCOUNT, _id: { $in: queries.filter((q) => q.obj.messageId).map((q) => q.obj.messageId) } }).toArray()
        : [];
      const byId = new Map(found.map((m) => [m._id.toHexString(), { id: m._id.toHexString(), name: m.name ?? null }]));
      return queries.map((q) => (q.obj.messageId ? byId.get(q.obj.messageId.toHexString()) ?? null : null));
    },
  },
};

await client.connect();
const app = Fastify({ logger: false });
app.register(mercurius, { schema, resolvers, loaders, jit: 1 });
await app.listen({ port: Number(port), host: "127.0.0.1" });
console.log(`mercurius peer at http://127.0.0.1:${port}/graphql`);
