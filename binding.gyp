{
  "targets": [
    {
      "target_name": "neardup_malloc",
      "sources": ["native/malloc.c"]
    }
  ]
}
