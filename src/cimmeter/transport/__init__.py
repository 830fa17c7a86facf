"""Transports: bytes in, messages to the service, answers back out; no rules of the standard.

- `inbound`: the envelope check (what is a Fault, what goes to the handler) and `Inbound`;
- `handler`: the `MessageHandler` protocol and rendering answers in the request's form;
- `http`: one ASGI app (SOAP 1.1/1.2 with generated WSDL, REST/JSON with OpenAPI);
- `amqp`: RabbitMQ request queues, replies, events, dead letters;
- `client`: the `send` side (HTTP picks the SOAP service, AMQP waits for the reply);
- `read_side`: what the REST resource routes read, and how reading sets are written out.
"""

from cimmeter.transport.handler import MessageHandler, render
from cimmeter.transport.inbound import Envelope, EnvelopeError, FaultReason, Inbound, Role, receive

__all__ = [
    "Envelope",
    "EnvelopeError",
    "FaultReason",
    "Inbound",
    "MessageHandler",
    "Role",
    "receive",
    "render",
]
