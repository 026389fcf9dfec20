"""hyperhive.optimizers"""
