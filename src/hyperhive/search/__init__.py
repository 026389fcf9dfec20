"""hyperhive.search"""
