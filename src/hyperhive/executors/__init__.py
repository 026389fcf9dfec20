"""hyperhive.executors"""
