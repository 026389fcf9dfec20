"""hyperhive.cli"""
