#!/usr/bin/env python3
"""Seed 002's inventory backlog, as the demo runs it (tools/demo-console.sh).

  inventory.py feed AMQP_URL   the orders: a morning's backlog of 150, then
                               3 a second
  inventory.py api AMQP_URL    inventory-api, the consumer: one order at a
                               time, half a second each (2 a second)

Both keep trying to connect until RabbitMQ answers: the demo starts them
while the broker is still booting.  The consumer is a real AMQP consumer
(pika), not a poll of the management API, so RabbitMQ counts it: the queue
has a consumer, and still grows, which is seed 002.
"""
import sys
import time

import pika

QUEUE = "inventory"


def connect(url):
    # No heartbeats: the consumer sleeps inside its callback, and a missed
    # heartbeat would close the connection in the middle of the demo.
    params = pika.URLParameters(url + "?heartbeat=0&connection_attempts=1")
    while True:
        try:
            conn = pika.BlockingConnection(params)
            break
        except pika.exceptions.AMQPError:
            time.sleep(0.3)
    ch = conn.channel()
    ch.queue_declare(queue=QUEUE, durable=False)
    return ch


def feed(url):
    ch = connect(url)
    n = 0
    if ch.queue_declare(queue=QUEUE, passive=True).method.message_count == 0:
        for n in range(1, 151):
            ch.basic_publish("", QUEUE, b"order %d" % n)
        print("inventory-feed: published the morning's %d orders" % n,
              flush=True)
    while True:
        n += 1
        ch.basic_publish("", QUEUE, b"order %d" % n)
        time.sleep(1 / 3)


def api(url):
    ch = connect(url)
    done = 0

    def handle(ch, method, properties, body):
        nonlocal done
        time.sleep(0.5)
        ch.basic_ack(method.delivery_tag)
        done += 1
        if done % 100 == 0:
            print("inventory-api: %d orders processed" % done, flush=True)

    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(QUEUE, handle)
    print("inventory-api: consuming %s" % QUEUE, flush=True)
    ch.start_consuming()


{"feed": feed, "api": api}[sys.argv[1]](sys.argv[2])
