"""hyperhive.space"""
