"""hyperhive.testing: reusable pytest suites (``store_contract.StoreContract`` for stores,
``optimizer_contract.OptimizerContract`` for optimizers, ``stopper_contract.StopperContract``
for stoppers) and ``flight.max_in_flight``."""
