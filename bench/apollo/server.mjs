// The benchmark's peer: Apollo Server 4 serving Q1 and Q2 (the same shape as ContactGraph's
// schema) over the same database with the Node MongoDB driver and DataLoader, batching per
// level the way a careful Apollo implementation would: activities and orders with one
// $topN aggregation per level, messages with one $in find.
// Run: node server.mjs PORT MONGODB_URI DATABASE
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import DataLoader from "dataloader";
import { MongoClient } from "mongodb";

const [port, uri, database] = process.argv.slice(2);
const ACCOUNT = "bench";
const client = new MongoClient(uri);
const db = client.db(database);

const typeDefs = `#graphql
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

function topN(collection, sortBy, n) {
  return new DataLoader(async (cids) => {
    const groups = await db.collection(collection).aggregate([
      { $match: { accountId: ACCOUNT, cID: { $in: cids } } },
      { $group: { _id: "$cID", items: { $topN: { n, sortBy, output: "$$ROOT" } } } },
    ]).toArray();
    const byId = new Map(groups.map((g) => [g._id.toHexString(), g.items]));
    return cids.map((cid) => byId.get(cid.toHexString()) ?? []);
  }, { cacheKeyFn: (cid) => cid.toHexString() });
}

function loaders() {
  const perFirst = new Map();
  const cached = (key, make) => perFirst.get(key) ?? perFirst.set(key, make()).get(key);
  return {
    activities: (first) => cached(`a${first}`, () => topN("activities", { ats: -1, _id: -1 }, first)),
    orders: (first) => cached(`o${first}`, () => topN("orders", { purchaseDate: -1, _id: -1 }, first)),
    message: new DataLoader(async (ids) => {
      const found = await db.collection("messages").find({ accountId: ACCOUNT, _id: { $in: ids } }).toArray();
      const byId = new Map(found.map((m) => [m._id.toHexString(), m]));
      return ids.map((id) => byId.get(id.toHexString()) ?? null);
    }, { cacheKeyFn: (id) => id.toHexString() }),
  };
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
    activities: async (c, { first }, ctx) => ({ edges: (await ctx.loaders.activities(first).load(c._id)).map((node) => ({ node })) }),
    orders: async (c, { first }, ctx) => ({ edges: (await ctx.loaders.orders(first).load(c._id)).map((node) => ({ node })) }),
  },
  Activity: {
    mcID: (a) => a.mcID ?? null,
    message: async (a, _, ctx) => {
      if (!a.messageId) return null;
      const m = await ctx.loaders.message.load(a.messageId);
      return m ? { id: m._id.toHexString(), name: m.name ?? null } : null;
    },
  },
  Order: { items: (o) => (o.items ?? []).map(item) },
};

await client.connect();
const server = new ApolloServer({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(port), host: "127.0.0.1" },
  context: async () => ({ loaders: loaders() }),
});
console.log(`apollo peer at ${url}`);
