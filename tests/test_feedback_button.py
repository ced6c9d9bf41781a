"""The confirm button hands a Touch to the core's queue and does nothing else."""

import queue

from gpiozero.pins.mock import MockFactory, MockPWMPin

from station.config import FeedbackConfig
from station.drivers.feedback import Feedback
from station.inputs import Touch


def test_feedback_button_press_emits_one_confirm_touch():
    factory = MockFactory(pin_class=MockPWMPin)
    inputs: queue.Queue = queue.Queue()
    feedback = Feedback(FeedbackConfig(pin_factory="mock", button=4), inputs.put, factory)
    try:
        pin = factory.pin(4)
        pin.drive_low()  # pressed
        assert inputs.get(timeout=5) == Touch("confirm")
        pin.drive_high()
        assert inputs.empty()
        assert [s.state for s in pin.states] == [
            False,
            True,
            False,
            True,
        ]  # pull-up, press, release
    finally:
        feedback.close()
        factory.reset()
