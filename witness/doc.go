// Package witness lets vigil logs be witnessed, and vigil witness other logs,
// per C2SP tlog-witness (https://c2sp.org/tlog-witness) with Ed25519
// tlog-cosignature/v1 cosignatures (https://c2sp.org/tlog-cosignature).
//
// A log calls [Client.Cosign] with each new signed checkpoint and its stored
// hashes; each [Witness] answers with a cosignature if the checkpoint is
// consistent with the last one it cosigned. A witness that refuses a
// checkpoint as inconsistent yields a [ConflictError]: the alarm that the log
// was forked. A witness is a [Server] over a [DB] holding, per log, its keys
// and the latest cosigned checkpoint; its key ([Signer]) is its own, never
// the log's.
//
// The request format is parsed strictly by [ParseAddCheckpoint]
// (FuzzParseAddCheckpoint checks parse then marshal gives back the input).
// Cosignatures are cross-checked against filippo.io/torchwood
// (TestCosignatureTorchwood), and the client against litewitness, a witness
// we did not write (TestLitewitness).
package witness
