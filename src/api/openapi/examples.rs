//! One example per operation, from a real run of `altframe serve` with the builtin model on
//! 2026-11-25 (ids, times and texts are that run's). The images were served from a local folder;
//! their URLs are shown as `https://example.com/images/...`, the webhook receiver's as
//! `https://yourapp.com/webhooks/altframe`.
use serde_json::{json, Value};

pub fn generate_request() -> Value {
    json!({
        "image_url": "https://example.com/images/photo.jpg",
        "mode": "ecommerce",
        "language": "en",
        "keywords": [
            "hiking boots",
            "waterproof"
        ],
        "max_length": 125,
        "product_name": "Trailblazer Hiking Boot",
        "fields": [
            "alt_text",
            "title",
            "caption",
            "og_description"
        ]
    })
}

pub fn generate_response() -> Value {
    json!({
        "id": "job_0VbzzuiSfML7gMrluyyCsTVqbeEb",
        "status": "completed",
        "results": {
            "alt_text": "Trailblazer Hiking Boot: an evenly lit graphic in green, teal and orange tones",
            "title": "Trailblazer Hiking Boot",
            "caption": "Trailblazer Hiking Boot. Landscape image, 800×600 pixels, with flat areas of colour like an illustration or graphic, mostly green, teal and orange.",
            "og_description": "Trailblazer Hiking Boot: an evenly lit graphic in green, teal and orange tones. Topics: hiking boots, waterproof."
        },
        "meta": {
            "language": "en",
            "model": "builtin",
            "tokens": {
                "input": 0,
                "output": 0
            },
            "processing_ms": 203,
            "credits_used": 1,
            "credits_remaining": 4999
        }
    })
}

pub fn bulk_request() -> Value {
    json!({
        "images": [
            {
                "image_url": "https://example.com/images/product-1.png",
                "product_name": "Linen Shirt"
            },
            {
                "image_url": "https://example.com/images/missing.jpg"
            }
        ],
        "mode": "ecommerce",
        "fields": [
            "alt_text",
            "title"
        ],
        "webhook_url": "https://yourapp.com/webhooks/altframe"
    })
}

pub fn bulk_response() -> Value {
    json!({
        "batch_id": "9513b74e-e58f-4745-9c7f-c0cfc1e97390",
        "total_images": 2,
        "credits_reserved": 2,
        "estimated_seconds": 1,
        "status_url": "/api/v1/batches/9513b74e-e58f-4745-9c7f-c0cfc1e97390"
    })
}

/// From a run of 2026-12-03, same set-up.
pub fn validate_request() -> Value {
    json!({
        "image_url": "https://example.com/images/photo.jpg",
        "alt_text": "Image of hiking boots, hiking boots, waterproof boots",
        "keywords": ["hiking boots", "waterproof"],
        "product_name": "Trailblazer Hiking Boot",
        "suggest": true
    })
}

pub fn validate_response() -> Value {
    json!({
        "score": 45,
        "findings": [
            {
                "code": "redundant_prefix",
                "message": "It starts with \"Image of\": screen readers already announce an image."
            },
            {
                "code": "keyword_stuffing",
                "message": "It lists keywords or repeats a word: describe the image in a sentence instead."
            }
        ],
        "decorative": false,
        "decorative_reason": "It shows the product named in the request, which is content.",
        "suggestion": {
            "alt_text": "Trailblazer Hiking Boot: an evenly lit graphic in green, teal and orange tones"
        },
        "meta": {
            "language": "en",
            "credits_used": 1,
            "credits_remaining": 49,
            "job_id": "job_0VclxqxXmOA6KF4cekX1AJsDIhHe",
            "model": "builtin"
        }
    })
}

pub fn batch_response() -> Value {
    json!({
        "batch_id": "9513b74e-e58f-4745-9c7f-c0cfc1e97390",
        "status": "partial",
        "total": 2,
        "completed": 1,
        "failed": 1,
        "results": [
            {
                "id": "job_0Vbzzwu2aaqc1zC43RxodWlOyZc3",
                "image_url": "https://example.com/images/product-1.png",
                "results": {
                    "alt_text": "Linen Shirt: an evenly lit graphic in green, teal and orange tones",
                    "title": "Linen Shirt"
                },
                "meta": {
                    "model": "builtin",
                    "tokens": {
                        "input": 0,
                        "output": 0
                    },
                    "processing_ms": 207
                }
            }
        ],
        "errors": [
            {
                "id": "job_0Vbzzwu2SUE8LBMQ2HpdXalR2ryK",
                "image_url": "https://example.com/images/missing.jpg",
                "error": "image_url: https://example.com/images/missing.jpg answered HTTP 404"
            }
        ]
    })
}

pub fn webhook_deliveries() -> Value {
    json!({
        "batch_id": "9513b74e-e58f-4745-9c7f-c0cfc1e97390",
        "webhook_url": "https://yourapp.com/webhooks/altframe",
        "webhook_id": "msg_9513b74ee58f47459c7fc0cfc1e97390",
        "attempts": [
            {
                "attempt": 1,
                "at": "2026-11-25T15:25:39.062Z",
                "status": 200,
                "error": null,
                "delivered": true,
                "next_attempt_at": null
            }
        ]
    })
}

pub fn redelivery() -> Value {
    json!({
        "batch_id": "9513b74e-e58f-4745-9c7f-c0cfc1e97390",
        "webhook_id": "msg_9513b74ee58f47459c7fc0cfc1e97390",
        "status": "queued"
    })
}

pub fn history_response() -> Value {
    json!({
        "jobs": [
            {
                "id": "job_0Vbzzwu2aaqc1zC43RxodWlOyZc3",
                "status": "completed",
                "image_url": "https://example.com/images/product-1.png",
                "results": {
                    "alt_text": "Linen Shirt: an evenly lit graphic in green, teal and orange tones",
                    "title": "Linen Shirt"
                },
                "mode": "ecommerce",
                "language": "en",
                "meta": {
                    "model": "builtin",
                    "tokens": {
                        "input": 0,
                        "output": 0
                    },
                    "processing_ms": 207,
                    "cost_usd": 0.0
                },
                "source": "bulk",
                "batch_id": "9513b74e-e58f-4745-9c7f-c0cfc1e97390",
                "error": null,
                "created_at": "2026-11-25T15:25:38.818Z",
                "completed_at": "2026-11-25T15:25:39.044Z"
            },
            {
                "id": "job_0Vbzzwu2SUE8LBMQ2HpdXalR2ryK",
                "status": "failed",
                "image_url": "https://example.com/images/missing.jpg",
                "results": {},
                "mode": "ecommerce",
                "language": "en",
                "meta": {
                    "model": null,
                    "tokens": {
                        "input": 0,
                        "output": 0
                    },
                    "processing_ms": null,
                    "cost_usd": 0.0
                },
                "source": "bulk",
                "batch_id": "9513b74e-e58f-4745-9c7f-c0cfc1e97390",
                "error": "image_url: https://example.com/images/missing.jpg answered HTTP 404",
                "created_at": "2026-11-25T15:25:38.818Z",
                "completed_at": "2026-11-25T15:25:38.837Z"
            }
        ],
        "pagination": {
            "total": 3,
            "limit": 2,
            "offset": 0,
            "has_more": true
        }
    })
}

pub fn usage_response() -> Value {
    json!({
        "plan": "pro",
        "credits": {
            "monthly_allocation": 5000,
            "remaining": 4998,
            "rollover": 0,
            "used_this_period": 2,
            "period_resets_at": "2026-12-01T00:00:00.000Z"
        },
        "overage": {
            "enabled": true,
            "rate": 0.03
        }
    })
}

pub fn webhook_payload() -> Value {
    json!({
        "event": "batch.completed",
        "batch_id": "9513b74e-e58f-4745-9c7f-c0cfc1e97390",
        "status": "partial",
        "total": 2,
        "completed": 1,
        "failed": 1,
        "results": [
            {
                "id": "job_0Vbzzwu2aaqc1zC43RxodWlOyZc3",
                "image_url": "https://example.com/images/product-1.png",
                "results": {
                    "alt_text": "Linen Shirt: an evenly lit graphic in green, teal and orange tones",
                    "title": "Linen Shirt"
                }
            }
        ],
        "errors": [
            {
                "id": "job_0Vbzzwu2SUE8LBMQ2HpdXalR2ryK",
                "image_url": "https://example.com/images/missing.jpg",
                "error": "image_url: https://example.com/images/missing.jpg answered HTTP 404"
            }
        ]
    })
}

pub fn metrics() -> Value {
    json!(concat!(
        "altframe_credits{movement=\"captured\"} 2\n",
        "altframe_credits{movement=\"released\"} 0\n",
        "altframe_credits{movement=\"reserved\"} 2\n",
        "altframe_http_requests_total{method=\"POST\",route=\"/api/v1/generate\",status=\"200\"} 2\n",
        "altframe_http_requests_total{method=\"POST\",route=\"/api/v1/generate\",status=\"429\"} 2\n",
    ))
}

pub fn scan_request() -> Value {
    json!({
        "page_url": "https://example.com/shop/boots.html",
        "generate": true,
        "fields": [
            "alt_text",
            "title"
        ],
        "webhook_url": "https://yourapp.com/webhooks/altframe"
    })
}

/// From a run of 2026-12-03 (the builtin model): a page of five images, two of which need
/// alt text and went into the batch.
pub fn scan_response() -> Value {
    json!({
        "page_url": "https://example.com/shop/boots.html",
        "summary": {
            "found": 5,
            "listed": 5,
            "missing_alt": 1,
            "decorative": 2,
            "with_findings": 2,
            "need_alt_text": 2
        },
        "images": [
            {
                "element": "img",
                "url": "https://example.com/images/logo.png",
                "alt": "Trailhead Outfitters",
                "role": "link",
                "link_url": "https://example.com/",
                "findings": [],
                "score": 100,
                "needs_alt_text": false
            },
            {
                "element": "picture",
                "url": "https://example.com/images/alpine.jpg",
                "srcset": [
                    "https://example.com/images/alpine-800.webp",
                    "https://example.com/images/alpine-1600.webp"
                ],
                "alt": null,
                "role": "link",
                "link_url": "https://example.com/shop/alpine.html",
                "link_text": "Alpine boot",
                "caption": "Our warmest boot, lined with wool",
                "heading": "Winter boots",
                "findings": [
                    {
                        "code": "missing",
                        "message": "The image has no alt text: a screen reader says nothing, or reads its file name."
                    }
                ],
                "score": 0,
                "needs_alt_text": true,
                "generation": "submitted"
            },
            {
                "element": "img",
                "url": "https://example.com/images/IMG_2043.jpg",
                "alt": "IMG_2043.jpg",
                "role": "content",
                "heading": "Winter boots",
                "findings": [
                    {
                        "code": "file_name",
                        "message": "\"IMG_2043.jpg\" is a file name, not a description of the image."
                    }
                ],
                "score": 30,
                "needs_alt_text": true,
                "generation": "submitted"
            },
            {
                "element": "img",
                "url": "https://example.com/images/cart.png",
                "alt": "",
                "role": "button",
                "link_text": "Add to cart",
                "heading": "Winter boots",
                "decorative": "empty_alt",
                "findings": [],
                "score": 100,
                "needs_alt_text": false
            },
            {
                "element": "background",
                "url": "https://example.com/images/hero.jpg",
                "alt": null,
                "role": "background",
                "heading": "Winter boots",
                "decorative": "background",
                "findings": [],
                "score": 100,
                "needs_alt_text": false
            }
        ],
        "batch": {
            "batch_id": "36f9fca7-5d42-43cc-8a4e-e000dbff4588",
            "total_images": 2,
            "credits_reserved": 2,
            "estimated_seconds": 2,
            "status_url": "/api/v1/batches/36f9fca7-5d42-43cc-8a4e-e000dbff4588"
        }
    })
}
