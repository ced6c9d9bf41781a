"""Transfers between sites at the bench (issue 15): the sending site packs a transfer like
an order (same verification) with a transfer label whose barcode the receiving dock scans;
the receiving site receives it like a purchase order, over and short flagged as for POs."""

from decimal import Decimal

from protocol.events import PoClose, Receipt, Shipment
from protocol.messages import Order, OrderLine, PurchaseOrder, PurchaseOrderLine
from station.drivers.printers.labels import Barcode, Text
from station.label_router import printed_label
from station.workflows import bench
from tests.workflow_catalog import BOLT, GADGET, WIDGET, Catalog, events_of, gs1, run, scan, weigh

TRANSFER = Order(order="T-000001", lines=[OrderLine(sku="WIDGET", qty=2)],
                 packaging_weight_g=Decimal(50), kind="transfer", to_site="s2")  # fmt: skip
# At the receiving site the same transfer is a purchase order of its number.
ARRIVING = PurchaseOrder(po="T-000001", lines=[
    PurchaseOrderLine(sku="WIDGET", qty=3, unit_cost=Decimal("2.50")),
    PurchaseOrderLine(sku="GADGET", qty=2, unit_cost=Decimal("4.00"))])  # fmt: skip


def catalog() -> Catalog:
    made = Catalog()
    made.orders[TRANSFER.order] = TRANSFER
    made.pos[ARRIVING.po] = ARRIVING
    return made


def test_a_transfer_is_packed_like_an_order_and_labelled_for_the_receiving_site():
    inputs = [scan("OP:alice"), scan("ORD:T-000001"), scan(BOLT), scan(WIDGET), scan(WIDGET),
              weigh(260)]  # fmt: skip
    _, outcomes = run(inputs, catalog())
    assert outcomes[2].verdict.name == "not_in_order"  # the same verification as a sale
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.order == "T-000001" and shipment.weight_g == Decimal(260)
    assert [(x.sku, x.qty) for x in shipment.lines] == [("WIDGET", 2)]
    (label,) = outcomes[-1].labels
    assert label.fields["to_site"] == "s2"
    printed = printed_label(label)
    texts = [e.text for e in printed.elements if isinstance(e, Text)]
    assert texts[:2] == ["TRANSFER T-000001", "TO SITE s2"]
    assert [e.data for e in printed.elements if isinstance(e, Barcode)] == ["PO:T-000001"]


def test_a_sale_keeps_its_customer_label():
    inputs = [scan("OP:alice"), scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(250)]
    _, outcomes = run(inputs, catalog())
    (label,) = outcomes[-1].labels
    assert "to_site" not in label.fields
    assert [e.data for e in printed_label(label).elements if isinstance(e, Barcode)] == ["SO-1"]


def test_a_transfer_is_received_by_its_label_with_over_and_short_flagged():
    inputs = [
        scan("OP:rita"), scan("CMD:MODE:RECEIVE"),
        scan("PO:T-000001"),  # the transfer label's barcode
        scan("QTY:4"), scan(WIDGET),  # one more than shipped: held for a supervisor
        scan("CMD:OVERRIDE"), scan("OP:sue"),
        gs1("01" + GADGET, "17270131", "10L9"),  # one of two
        scan("CMD:SHORT:transit_damage"),
    ]  # fmt: skip
    state, outcomes = run(inputs, catalog(), supervisors=frozenset({"sue"}))
    assert outcomes[4].verdict.name == "over_receipt"
    receipts = events_of(outcomes, Receipt)
    assert [(r.po, r.sku, r.qty) for r in receipts] == [("T-000001", "WIDGET", 4),
                                                        ("T-000001", "GADGET", 1)]  # fmt: skip
    (close,) = events_of(outcomes, PoClose)
    assert (close.po, close.short, close.reason) == ("T-000001", True, "transit_damage")
    closed = bench.view(state)["po_closed"]
    assert closed["lines_short"] == [{"sku": "GADGET", "ordered": 2, "received": 1}]
    assert closed["lines_over"] == [{"sku": "WIDGET", "ordered": 3, "received": 4}]
