"""The differential test for hashes, sets, sorted sets and transactions:
random sequences to jobd and to redis-server, identical replies after
normalizing what may legitimately differ (order of unordered replies,
random picks)."""
import os

import pytest

import collections_gen
from test_differential import run_sequence

SEEDS = int(os.environ.get('JOBD_DIFF_SEEDS', '12'))
OPS = int(os.environ.get('JOBD_DIFF_OPS', '500'))
FAMILIES = {
    'hash': ('hash', 'common'),
    'set': ('set', 'common'),
    'mixed': ('hash', 'set', 'common'),
}


@pytest.mark.parametrize('family', sorted(FAMILIES))
@pytest.mark.parametrize('seed', range(SEEDS // 2))
def test_collections_get_identical_replies_in_resp2(both, family, seed):
    gen = collections_gen.CollectionGenerator(seed, FAMILIES[family])
    run_sequence(*both, seed, 2, gen, collections_gen.normalize, OPS)


@pytest.mark.parametrize('family', sorted(FAMILIES))
@pytest.mark.parametrize('seed', range(SEEDS // 4))
def test_collections_get_identical_replies_in_resp3(both, family, seed):
    gen = collections_gen.CollectionGenerator(2000 + seed, FAMILIES[family])
    run_sequence(*both, seed, 3, gen, collections_gen.normalize, OPS)
