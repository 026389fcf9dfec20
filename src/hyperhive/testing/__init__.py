"""hyperhive.testing"""
