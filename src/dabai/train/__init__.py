"""dabai.train"""
