"""v1alpha1"""
