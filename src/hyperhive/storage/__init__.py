"""hyperhive.storage"""
