// The index schema: every term prefix, value slot and document-data field the
// project writes or reads is defined here and nowhere else. docs/schema.md
// documents it; change both together.
#pragma once

#include <string>
#include <string_view>

#include "medsearch/document.h"

namespace medsearch::schema {

// Term prefixes. One-letter prefixes follow Xapian Omega's conventions;
// the project's own start with X.
inline constexpr std::string_view kUniqueId = "Q";     // Q + id (hashed when long); boolean
inline constexpr std::string_view kTitle = "S";        // title words (free text, title:)
inline constexpr std::string_view kAuthor = "A";       // author words (free text, author:)
inline constexpr std::string_view kDay = "D";          // D + YYYYMMDD publication date; boolean
inline constexpr std::string_view kMonth = "M";        // M + YYYYMM; boolean
inline constexpr std::string_view kYear = "Y";         // Y + YYYY; boolean
inline constexpr std::string_view kHost = "H";         // H + host, lowercase (site:); boolean
inline constexpr std::string_view kUrl = "U";          // U + URL (hashed when long); boolean
inline constexpr std::string_view kMimeType = "T";     // T + MIME type; boolean
inline constexpr std::string_view kLanguage = "L";     // L + ISO 639-1 code (lang:); boolean
inline constexpr std::string_view kDocType = "XTYPE";  // XTYPE + research|clinic|news|other
inline constexpr std::string_view kEvidence = "XEV";   // XEV + rct|meta-analysis|...
inline constexpr std::string_view kConcept = "XC";     // XC + concept id (vocabulary)
inline constexpr std::string_view kDoi = "XDOI";       // XDOI + lowercase DOI
inline constexpr std::string_view kPmid = "XPMID";     // XPMID + PubMed id
inline constexpr std::string_view kCitedDoi = "XRD";   // XRD + lowercase DOI the document cites
inline constexpr std::string_view kCitedPmid = "XRP";  // XRP + PubMed id the document cites
inline constexpr std::string_view kTextHash = "XTH";  // XTH + hash of title and text (exact copies)
inline constexpr std::string_view kSimhashBand = "XSB";  // XSB + band digit + 4 hex (near copies)
// On a document whose collapse key is another's (a near copy of one indexed
// before it), in an index with kMetaNearCopyTerms: where no document has it,
// no two documents share a collapse key and searches need not collapse.
inline constexpr std::string_view kNearCopy = "XNC";

// Value slots.
inline constexpr unsigned kSlotDate = 0;         // publication date, YYYYMMDD (sortable)
inline constexpr unsigned kSlotFirstSeen = 1;    // date first indexed, YYYYMMDD
inline constexpr unsigned kSlotSite = 2;         // host name
inline constexpr unsigned kSlotCollapse = 3;     // near-duplicate key (equal for copies)
inline constexpr unsigned kSlotContentHash = 4;  // hash of the stored document, to skip unchanged
inline constexpr unsigned kSlotSimhash = 5;      // 64-bit SimHash of the text, 16 hex digits
inline constexpr unsigned kSlotDocType = 6;      // research|clinic|news|other (type facet)
inline constexpr unsigned kSlotEvidence = 7;     // rct|meta-analysis|... (evidence facet)
inline constexpr unsigned kSlotYear = 8;         // publication year, YYYY (year facet)
// The document's concept ids, sorted, each once, joined by kConceptSeparator:
// the concept facet over remote shards, where only Xapian's own
// ValueCountMatchSpy runs (it counts each combination; the searcher splits them).
inline constexpr unsigned kSlotConcepts = 9;
inline constexpr char kConceptSeparator = '\n';

// Metadata keys (Xapian user metadata).
inline constexpr std::string_view kMetaSchemaVersion = "medsearch.schema";  // kSchemaVersion
// The vocabulary the index was built with: serialised, in chunks .0, .1, ...
inline constexpr std::string_view kMetaVocabularyChunks = "medsearch.vocabulary.chunks";
inline constexpr std::string_view kMetaVocabularyChunk = "medsearch.vocabulary.";
inline constexpr std::string_view kMetaVocabularyFingerprint = "medsearch.vocabulary.fingerprint";
inline constexpr std::string_view kMetaVocabularyConcepts = "medsearch.vocabulary.concepts";
// The same vocabulary in pieces (Vocabulary::pieces()), each under this prefix + its key,
// so that a search reads only the pieces its query needs; their format under
// kMetaVocabularyPieces when they are there (an index written before them has the chunks
// only). Format "1": "w:" lines of three fields; "2" adds the variant's other words,
// normalised; "3" (kVocabularyPiecesFormat) adds an "s:" piece for each word spelling
// correction must leave alone, which indexes of older formats keep as spelling data
// instead. Readers take them all; medindex rewrites older pieces.
inline constexpr std::string_view kMetaVocabularyPiece = "medsearch.vp.";
inline constexpr std::string_view kMetaVocabularyPieces = "medsearch.vocabulary.pieces";
inline constexpr std::string_view kVocabularyPiecesFormat = "3";
// A sharded index (medindex --shards N) is a directory of shard-0 ... shard-N-1,
// a vocabulary database beside them (concepts and spelling, which Xapian 1.4's
// remote shards do not give) and local.stub, a Xapian stub of "auto" lines.
inline constexpr std::string_view kShardPrefix = "shard-";
inline constexpr std::string_view kShardsVocabulary = "vocabulary";
inline constexpr std::string_view kShardsLocalStub = "local.stub";
// "1" in an index whose writers have marked every near copy with kNearCopy
// (set when the index is created; an index from before has near copies
// unmarked, and is collapsed as before).
inline constexpr std::string_view kMetaNearCopyTerms = "medsearch.near_copy_terms";
// The number of shards, in every shard
// and in the vocabulary database beside them.
inline constexpr std::string_view kMetaShards = "medsearch.shards";
// 2: value slots for the type, evidence and year facets.
// 3: the concepts slot (kSlotConcepts), for the concept facet over remote shards.
inline constexpr const char* kSchemaVersion = "3";

// How the title is weighted against body text: title words are indexed with
// this wdf increment, unprefixed and with kTitle.
inline constexpr unsigned kTitleWeight = 3;

// At most this much clean text is kept in the document data for snippets.
inline constexpr size_t kMaxStoredText = 64 * 1024;

// Xapian terms are limited to 245 bytes: ids longer than this are shortened
// with a hash so that distinct ids keep distinct terms.
inline constexpr size_t kMaxTermBytes = 240;

// The concept term of a concept id: XC + id, with ':' between when the id
// starts with a capital (Omega's rule, so "XC" + "D020918" stays unambiguous).
std::string concept_term(std::string_view concept_id);

// The unique term of a document id: Q + id, or Q + prefix + hash when long.
std::string unique_term(std::string_view id);

// A boolean term: prefix + value, hashed like unique_term when too long.
std::string boolean_term(std::string_view prefix, std::string_view value);

// The document data: "field=value" lines, with '\' and newlines escaped, in
// the style of Omega's document data. Text is capped at kMaxStoredText.
std::string encode_document_data(const Document& doc);
Document decode_document_data(std::string_view data);

// "2021-03-05" -> "20210305"; "2021-03" -> "20210300"; "2021" -> "20210000"; else "".
std::string date_slot_value(std::string_view date);

}  // namespace medsearch::schema
