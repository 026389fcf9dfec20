"""hyperhive.testing: reusable pytest suites (``store_contract.StoreContract`` for stores)."""
