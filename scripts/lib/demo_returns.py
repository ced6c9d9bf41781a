"""The demo's returns desk and kit bench: the receiver takes a customer return now and then
(a mug back resellable, one damaged into quarantine, a kettle whose serial was never
shipped on that order), and the packer builds a mug gift set between orders.

Each is a worker of scripts/lib/demo_floor.py with one more job and its own round of
mistakes, so the tour sees them too.
"""

from demo_floor import BY_SKU, PRODUCTS, Packer, Receiver, gs1

# A kit in the catalog: built at the bench from a mug and two spoons, never bought.
KIT_SKU, KIT_NAME, KIT_GTIN, KIT_BIN = "GIFT-MUG", "Mug gift set", "4006381333955", "K-01-1"
KIT_PARTS = {"MUG-WHT": 1, "SPOON-S": 2}
# Returns: the plain products a customer sends back (no lot or serial to check).
PLAIN = [p.sku for p in PRODUCTS if not p.lots and not p.serials]


def kit_record() -> dict:
    return {"sku": KIT_SKU, "name": KIT_NAME, "gtins": [{"gtin": KIT_GTIN}],
            "kit": [{"sku": sku, "qty": n} for sku, n in KIT_PARTS.items()]}  # fmt: skip


class ReturnsReceiver(Receiver):
    """The receiver, who also takes customer returns at the dock between deliveries."""

    RETURN_ROUND = ("damaged", "wrong_serial")
    EVERY = 10  # a return now and then (every tenth look for work), once the round is done

    def __init__(self, shift, bench) -> None:
        super().__init__(shift, bench)
        self.returns_todo = list(self.RETURN_ROUND)
        self.rounds = 0
        self.taken: set[str] = set()

    @property
    def toured(self) -> bool:
        return super().toured and not self.returns_todo

    def buy_and_receive(self) -> bool:
        self.rounds += 1
        if self.returns_todo or self.rounds % self.EVERY == 0:
            self.take_a_return()
        return super().buy_and_receive()

    def take_a_return(self) -> None:
        kind = self.returns_todo[0] if self.returns_todo else "damaged"
        order = self._returnable_order(kettle=kind == "wrong_serial")
        if order is None:
            return
        shift, bench = self.shift, self.bench
        shift.expect(bench, "CMD:MODE:RETURNS", "ok")
        if not shift.until_known(bench, f"ORD:{order['order']}", "unknown_return"):
            shift.say(f"{bench.name}: the return of {order['order']} is not known here")
            shift.expect(bench, "CMD:MODE:RECEIVE", "ok")
            return
        said = self._items(order, kind)
        shift.expect(bench, "CMD:DONE", "ok")
        shift.expect(bench, "CMD:MODE:RECEIVE", "ok")
        self.taken.add(order["order"])
        if kind in self.returns_todo:
            self.returns_todo.remove(kind)
        shift.say(f"{bench.name}: return of {order['order']} booked: {said}")

    def _items(self, order: dict, kind: str) -> str:
        shift, bench = self.shift, self.bench
        plain = next(r for r in order["rows"] if r["sku"] in PLAIN and r["shipped"])
        product = BY_SKU[plain["sku"]]
        said = [f"1 {product.sku} resellable, back to its bin"]
        shift.pause()
        shift.expect(bench, product.gtin, "ok")
        shift.expect(bench, "CMD:CONDITION:RESELLABLE", "ok")
        shift.expect(bench, "CMD:RETURN:NOT_WANTED", "ok")
        if kind == "wrong_serial":
            kettle = BY_SKU["KETTLE-1"]
            shift.expect(bench, gs1(kettle, serial="K-NOT-OURS"), "serial_not_shipped", "]C1")
            said.append("a kettle whose serial was never shipped on it refused")
        elif plain["shipped"] >= 2:
            shift.expect(bench, product.gtin, "ok")
            shift.expect(bench, "CMD:CONDITION:DAMAGED", "ok")
            shift.expect(bench, "CMD:RETURN:DEFECTIVE", "ok")
            said.append(f"1 {product.sku} damaged, to quarantine")
        return "; ".join(said)

    def _returnable_order(self, kettle: bool) -> dict | None:
        """A shipped order not yet returned with a plain product (two of it for a damaged
        one too), and a kettle for a wrong serial."""
        for row in self.shift.api("GET", "/api/orders?status=shipped&limit=50")["orders"]:
            if row["order"] in self.taken:
                continue
            order = self.shift.api("GET", f"/api/orders/{row['order']}")
            shipped = {r["sku"]: r["shipped"] for r in order["rows"] if r["shipped"]}
            plain = [sku for sku in shipped if sku in PLAIN]
            if not plain:
                continue
            if kettle and "KETTLE-1" not in shipped:
                continue
            if not kettle and self.returns_todo and shipped[plain[0]] < 2:
                continue
            return order
        return None


class KitPacker(Packer):
    """The packer, who builds a mug gift set at the bench now and then between orders."""

    KIT_ROUND = ("not_in_kit",)
    EVERY = 6  # orders between gift sets, once one was built

    def __init__(self, shift, bench, first_number: int) -> None:
        super().__init__(shift, bench, first_number)
        self.kits_todo = list(self.KIT_ROUND)
        self.kits_built = 0
        self.orders = 0

    @property
    def toured(self) -> bool:
        return super().toured and not self.kits_todo

    def pack_one(self) -> bool:
        self.orders += 1
        due = self.kits_todo or self.orders % self.EVERY == 0
        if due and self._parts_in_stock():
            self.build_a_kit()
        return super().pack_one()

    def _parts_in_stock(self) -> bool:
        available = self.shift.available()
        return all(available.get(sku, 0) >= n + 1 for sku, n in KIT_PARTS.items())

    def build_a_kit(self) -> None:
        shift, bench = self.shift, self.bench
        shift.expect(bench, "CMD:MODE:ASSEMBLE", "ok")
        shift.expect(bench, KIT_GTIN, "ok")
        caught = ""
        if self.kits_todo:
            shift.expect(bench, BY_SKU["COAST-4"].gtin, "not_in_kit")  # the wrong box
            caught = " (coasters are no part of it: caught)"
        for sku, n in KIT_PARTS.items():
            for _ in range(n):
                shift.pause()
                shift.expect(bench, BY_SKU[sku].gtin, "ok")
        shift.expect(bench, f"LOC:{KIT_BIN}", "ok")
        shift.expect(bench, "CMD:DONE", "ok")
        shift.expect(bench, "CMD:MODE:PACK", "ok")
        self.kits_todo.clear()
        self.kits_built += 1
        shift.say(f"{bench.name}: built a {KIT_NAME} from its parts, put in {KIT_BIN}{caught}")
