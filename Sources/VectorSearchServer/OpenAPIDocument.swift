/// The OpenAPI 3.1 document of the API, served at `GET /openapi.json`; `docs/openapi.json` is
/// the same text (a test checks; `scripts/openapi.py` writes this file from it).
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "VectorSearch",
            "version": "1.0.0",
            "description": "The HTTP/JSON API of `vectorsearch serve` over one index file or one RAG collection. Version 1: later versions only add keys. Every error is `{\"error\": \"...\"}` with a 4xx status for a bad request. With an API key set, every endpoint but `/v1/health` needs `Authorization: Bearer <key>`."
          },
          "servers": [
            {
              "url": "http://127.0.0.1:8080"
            }
          ],
          "security": [
            {
              "bearer": []
            }
          ],
          "paths": {
            "/v1/search": {
              "post": {
                "operationId": "search",
                "summary": "Nearest neighbours of one query vector, a batch of them, or a text (collections)",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SearchRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Results best first: a list for one query, a list of lists for `vectors`",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SearchResponse"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/v1/documents": {
              "post": {
                "operationId": "upsertDocuments",
                "summary": "Add or replace documents of a collection (one transaction, durable when answered)",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/UpsertRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "How many documents were stored",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/UpsertResponse"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "413": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/v1/documents/{id}": {
              "delete": {
                "operationId": "deleteDocument",
                "summary": "Delete a document of a collection and all its chunks",
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Deleted",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/DeleteResponse"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/v1/info": {
              "get": {
                "operationId": "info",
                "summary": "What is served: kind, metric, dimension, counts, build parameters, memory",
                "responses": {
                  "200": {
                    "description": "The index or collection",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Info"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/v1/health": {
              "get": {
                "operationId": "health",
                "summary": "Liveness (no API key needed)",
                "security": [],
                "responses": {
                  "200": {
                    "description": "Serving",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Health"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "summary": "Prometheus text: requests and latencies by endpoint, vectors served",
                "responses": {
                  "200": {
                    "description": "Prometheus exposition format",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                  "200": {
                    "description": "OpenAPI 3.1",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "What is wrong",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "bearer": {
                "type": "http",
                "scheme": "bearer"
              }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "required": [
                  "error"
                ],
                "properties": {
                  "error": {
                    "type": "string"
                  }
                }
              },
              "Vector": {
                "type": "array",
                "items": {
                  "type": "number"
                },
                "minItems": 1
              },
              "SearchRequest": {
                "type": "object",
                "additionalProperties": false,
                "description": "Exactly one of `vector`, `vectors` and `text` (collections also take `text` with `vector`, for hybrid retrieval).",
                "properties": {
                  "vector": {
                    "$ref": "#/components/schemas/Vector"
                  },
                  "vectors": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Vector"
                    },
                    "description": "A batch: at most the server's --max-batch"
                  },
                  "text": {
                    "type": "string",
                    "description": "Collections: the query, embedded by the built-in model (and the keyword query with `hybrid`)"
                  },
                  "k": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 10,
                    "description": "At most the server's --max-k (default 1000)"
                  },
                  "filter": {
                    "type": [
                      "object",
                      "null"
                    ],
                    "description": "Metadata filter: {\"field\": value} or {\"field\": {\"$op\": value}} with $eq $ne $lt $lte $gt $gte $in $nin $contains $exists, and $and, $or, $not"
                  },
                  "ef": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "HNSW search breadth"
                  },
                  "nprobe": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "IVF lists probed"
                  },
                  "rerank": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 1000,
                    "description": "Quantized or compressed indexes: re-score rerank × k candidates exactly (0: off)"
                  },
                  "metadata": {
                    "type": "boolean",
                    "default": false,
                    "description": "Indexes: return each result's metadata"
                  },
                  "hybrid": {
                    "type": "boolean",
                    "default": false,
                    "description": "Collections: fuse FTS5 keyword search on `text` with the vector ranking"
                  },
                  "min_score": {
                    "type": [
                      "number",
                      "null"
                    ],
                    "description": "Collections: keep results at least this close"
                  },
                  "mmr": {
                    "type": [
                      "number",
                      "null"
                    ],
                    "minimum": 0,
                    "maximum": 1,
                    "description": "Collections: maximal marginal relevance with this λ"
                  },
                  "max_per_document": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "minimum": 1,
                    "description": "Collections: at most this many chunks of one document"
                  }
                }
              },
              "IndexHit": {
                "type": "object",
                "required": [
                  "id",
                  "score"
                ],
                "properties": {
                  "id": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "score": {
                    "type": "number",
                    "description": "Distance for l2 (smaller is closer), similarity for ip and cosine"
                  },
                  "metadata": {
                    "type": "object"
                  }
                }
              },
              "CollectionHit": {
                "type": "object",
                "required": [
                  "id",
                  "score",
                  "document",
                  "chunk_index",
                  "start",
                  "end",
                  "text",
                  "metadata"
                ],
                "properties": {
                  "id": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The chunk's id"
                  },
                  "score": {
                    "type": "number"
                  },
                  "fused_score": {
                    "type": "number"
                  },
                  "document": {
                    "type": "string"
                  },
                  "chunk_index": {
                    "type": "integer"
                  },
                  "start": {
                    "type": "integer"
                  },
                  "end": {
                    "type": "integer"
                  },
                  "text": {
                    "type": "string"
                  },
                  "metadata": {
                    "type": "object"
                  }
                }
              },
              "Hit": {
                "anyOf": [
                  {
                    "$ref": "#/components/schemas/IndexHit"
                  },
                  {
                    "$ref": "#/components/schemas/CollectionHit"
                  }
                ]
              },
              "SearchResponse": {
                "type": "object",
                "required": [
                  "results",
                  "partial"
                ],
                "properties": {
                  "results": {
                    "anyOf": [
                      {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/Hit"
                        }
                      },
                      {
                        "type": "array",
                        "items": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/Hit"
                          }
                        }
                      }
                    ]
                  },
                  "partial": {
                    "type": "boolean",
                    "description": "True when a router left out shards that failed or did not answer in time"
                  },
                  "failed_shards": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "description": "A router: each shard left out, with why (absent from a single server's answer)"
                  }
                }
              },
              "Document": {
                "type": "object",
                "required": [
                  "id",
                  "text"
                ],
                "properties": {
                  "id": {
                    "type": [
                      "string",
                      "integer"
                    ]
                  },
                  "text": {
                    "type": "string"
                  },
                  "metadata": {
                    "type": "object"
                  },
                  "embedding": {
                    "$ref": "#/components/schemas/Vector",
                    "description": "The vector of the whole text; without it the text is chunked and embedded by the built-in model"
                  }
                }
              },
              "UpsertRequest": {
                "type": "object",
                "required": [
                  "documents"
                ],
                "additionalProperties": false,
                "properties": {
                  "documents": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Document"
                    },
                    "description": "At most the server's --max-documents"
                  }
                }
              },
              "UpsertResponse": {
                "type": "object",
                "required": [
                  "upserted"
                ],
                "properties": {
                  "upserted": {
                    "type": "integer"
                  }
                }
              },
              "DeleteResponse": {
                "type": "object",
                "required": [
                  "deleted"
                ],
                "properties": {
                  "deleted": {
                    "type": "integer"
                  }
                }
              },
              "Health": {
                "type": "object",
                "required": [
                  "status"
                ],
                "properties": {
                  "status": {
                    "type": "string",
                    "enum": [
                      "ok"
                    ]
                  }
                }
              },
              "Info": {
                "type": "object",
                "required": [
                  "api_version",
                  "source",
                  "kind",
                  "metric",
                  "dimension",
                  "count",
                  "storage",
                  "parameters"
                ],
                "properties": {
                  "api_version": {
                    "type": "integer"
                  },
                  "source": {
                    "type": "string"
                  },
                  "kind": {
                    "type": "string",
                    "enum": [
                      "flat",
                      "ivf",
                      "hnsw",
                      "router"
                    ]
                  },
                  "metric": {
                    "type": "string",
                    "enum": [
                      "l2",
                      "ip",
                      "cosine"
                    ]
                  },
                  "dimension": {
                    "type": "integer"
                  },
                  "count": {
                    "type": "integer",
                    "description": "Vectors (an index) or chunks (a collection)"
                  },
                  "storage": {
                    "type": "string"
                  },
                  "parameters": {
                    "type": "object"
                  },
                  "memory_bytes": {
                    "type": "integer"
                  },
                  "documents": {
                    "type": "integer"
                  },
                  "shard": {
                    "type": "object",
                    "description": "An index built as one shard (build --shard): its manifest"
                  },
                  "shards": {
                    "type": "array",
                    "items": {
                      "type": "object"
                    },
                    "description": "A router: its shards (url, shard, first, end, count)"
                  },
                  "build": {
                    "type": "string",
                    "description": "A router: the build id its shards share"
                  }
                }
              }
            }
          }
        }

        """#
}
